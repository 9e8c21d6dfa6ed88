"""The ``minari-namespaces`` command: argument parsing and presentation only.

Every command opens a :class:`~minari_namespaces.service.NamespaceService` with
``--root`` (default: Minari's store) and ``--remote`` (default: ``$MINARI_REMOTE``)
and calls it; errors become one line on stderr and exit status 1.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.tree import Tree

from minari_namespaces import __version__
from minari_namespaces.errors import CorruptMetadataError, NamespaceError, NamespaceNotFoundError
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.service import NamespaceService, TransferReport

__all__ = ["app", "main"]

EPILOG = (
    "Examples:\n\n"
    "  minari-namespaces create D4RL/door --description 'Door opening' --set level=2\n\n"
    "  minari-namespaces list --prefix D4RL\n\n"
    "  minari-namespaces upload --tree --remote s3://bucket/minari\n\n"
    "The store is --root (default $MINARI_DATASETS_PATH, else ~/.minari/datasets); the "
    "remote is --remote (default $MINARI_REMOTE): the Hugging Face Hub (hf://ORG) or "
    "any fsspec URL such as s3://bucket/prefix, gs://bucket or file:///path."
)

app = typer.Typer(
    name="minari-namespaces",
    help="Create, inspect, change and transfer Minari dataset namespaces.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

P = ParamSpec("P")
R = TypeVar("R")


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Show library errors as one line (exit 1) and warnings as one line each."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return command(*args, **kwargs)
            except (NamespaceError, ValueError, OSError) as error:
                _stderr().print(f"Error: {_shown(str(error))}", markup=True)
                raise typer.Exit(1) from None
            except RecursionError:
                _stderr().print("Error: a value is nested too deeply to be read.", markup=True)
                raise typer.Exit(1) from None
            finally:
                for warning in caught:
                    _stderr().print(f"Warning: {_shown(str(warning.message))}", markup=True)

    return wrapper


def _printable(text: str, *, json_escapes: bool = False) -> str:
    """``text`` with every control or format character (terminal escapes, bidi
    overrides, ...) written as an escape sequence, so stored text can never drive
    the terminal. ``json_escapes`` writes them as JSON's ``\\uXXXX``, so JSON
    output stays valid JSON."""
    if text.isprintable():
        return text
    shown: list[str] = []
    for char in text:
        if char.isprintable() or char in " \n":
            shown.append(char)
        elif json_escapes:
            units = char.encode("utf-16-be")
            shown += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
        else:
            shown.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(shown)


def _shown(text: str) -> str:
    """``text`` made printable and safe inside Rich markup."""
    return escape(_printable(text))


def _service(root: Path | None, remote: str | None = None) -> NamespaceService:
    return NamespaceService.from_urls(local=root, remote=remote)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"minari-namespaces {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Create, inspect, change and transfer Minari dataset namespaces."""


RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="The local dataset folder. Default: $MINARI_DATASETS_PATH, else ~/.minari/datasets.",
        show_default=False,
    ),
]
RemoteOption = Annotated[
    str | None,
    typer.Option(
        "--remote",
        help="The remote store URL (s3://bucket/prefix, gs://bucket, file:///path, ...). "
        "Default: $MINARI_REMOTE.",
        show_default=False,
    ),
]
FromRemoteOption = Annotated[
    bool, typer.Option("--from-remote", help="Read the remote store instead of the local one.")
]


# -- metadata from the command line ------------------------------------------------

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="KEY=VALUE; VALUE is read as JSON when it parses (1, true, [1,2], "
        '{"a":1}), else kept as a string. Repeat for more keys.',
        show_default=False,
    ),
]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", "-d", help="A human-readable description.")
]


def _parse_sets(pairs: list[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs or []:
        key, separator, text = pair.partition("=")
        if not separator or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--set")
        try:
            values[key] = json.loads(text)
        except ValueError:
            values[key] = text
        except RecursionError:
            raise typer.BadParameter(
                f"the value of {key!r} is nested too deeply", param_hint="--set"
            ) from None
    return values


def _metadata(
    description: str | None, sets: list[str] | None, from_json: Path | None
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if from_json is not None:
        try:
            loaded = json.loads(from_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise typer.BadParameter(str(error), param_hint="--from-json") from None
        except RecursionError:
            raise typer.BadParameter("it is nested too deeply", param_hint="--from-json") from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("the file must hold a JSON object", param_hint="--from-json")
        data.update(loaded)
    data.update(_parse_sets(sets))
    if description is not None:
        data["description"] = description
    return data


def _print_json(value: object) -> None:
    typer.echo(_printable(json.dumps(value, indent=2, ensure_ascii=False), json_escapes=True))


# -- commands ------------------------------------------------------------------------


@app.command()
@_reports_errors
def create(
    namespace: Annotated[str, typer.Argument(help="The namespace, such as D4RL/door.")],
    *,
    root: RootOption = None,
    description: DescriptionOption = None,
    sets: SetOption = None,
    from_json: Annotated[
        Path | None,
        typer.Option("--from-json", help="Read metadata from a JSON object in this file."),
    ] = None,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Do nothing if it exists already.")
    ] = False,
) -> None:
    """Create a namespace (and its missing parents, with empty metadata).

    Example: minari-namespaces create D4RL/door -d "Door opening" --set level=2
    """
    service = _service(root)
    ns = NamespaceId(namespace)
    existed = exist_ok and service.exists(ns)
    service.create(ns, metadata=_metadata(description, sets, from_json), exist_ok=exist_ok)
    typer.echo(f"{'Exists' if existed else 'Created'} {ns}")


@app.command()
@_reports_errors
def show(
    namespace: Annotated[str, typer.Argument(help="The namespace to show.")],
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    from_remote: FromRemoteOption = False,
) -> None:
    """Print a namespace's metadata as JSON.

    Example: minari-namespaces show D4RL/door
    """
    _print_json(_service(root, remote).get(namespace, remote=from_remote).to_dict())


@app.command()
@_reports_errors
def update(
    namespace: Annotated[str, typer.Argument(help="The namespace to change.")],
    *,
    root: RootOption = None,
    description: DescriptionOption = None,
    sets: SetOption = None,
    unset: Annotated[
        list[str] | None,
        typer.Option("--unset", help="A key to remove. Repeat for more keys.", show_default=False),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the whole metadata with --description and --set (as Minari's "
            "update_namespace_metadata) instead of merging.",
        ),
    ] = False,
) -> None:
    """Change a namespace's metadata: merge keys in (default) or replace it all.

    Example: minari-namespaces update D4RL/door --set maintainer=farama --unset draft
    """
    service = _service(root)
    updates = _metadata(description, sets, None)
    if replace:
        if unset:
            raise typer.BadParameter("--unset makes no sense with --replace", param_hint="--unset")
        service.replace(namespace, NamespaceMetadata.from_dict(updates))
        typer.echo(f"Replaced the metadata of {namespace}")
        return
    summary = service.update_properties(namespace, updates=updates, removals=unset or [])
    typer.echo(
        f"Updated {namespace}: set {summary.updated or 'nothing'}, removed "
        f"{summary.removed or 'nothing'}"
        + (f", not present {summary.missing}" if summary.missing else "")
    )


@app.command()
@_reports_errors
def delete(
    namespace: Annotated[str, typer.Argument(help="The empty namespace to delete.")],
    *,
    root: RootOption = None,
) -> None:
    """Delete an empty namespace (no datasets, no child namespaces).

    Example: minari-namespaces delete D4RL/door
    """
    _service(root).delete(namespace)
    typer.echo(f"Deleted {namespace}")


@app.command("list")
@_reports_errors
def list_namespaces(
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    from_remote: FromRemoteOption = False,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Only this namespace and its subtree.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of {id, metadata} for scripts.")
    ] = False,
) -> None:
    """List namespaces as a tree with their descriptions (or as JSON).

    Example: minari-namespaces list --prefix D4RL --json
    """
    service = _service(root, remote)
    store = service.remote if from_remote else service.local
    ids = service.list_remote(prefix) if from_remote else service.list_local(prefix)
    metadata, errors = _read_each(store, ids)
    for error in errors.values():
        _stderr().print(f"Warning: {_shown(error)}", markup=True)
    if as_json:
        entries: list[dict[str, Any]] = []
        for ns in ids:
            if ns in metadata:
                entries.append({"id": str(ns), "metadata": metadata[ns].to_dict()})
            elif ns in errors:
                entries.append({"id": str(ns), "error": errors[ns]})
        _print_json(entries)
        return
    Console(highlight=False).print(_tree(store.url, ids, metadata, errors))


def _read_each(
    store: NamespaceRepository, ids: list[NamespaceId]
) -> tuple[dict[NamespaceId, NamespaceMetadata], dict[NamespaceId, str]]:
    """The metadata of ``ids`` in one batch; if one is corrupt, each on its own, so
    one bad entry is reported while the rest is listed."""
    try:
        return store.get_many(ids), {}
    except CorruptMetadataError:
        pass
    found: dict[NamespaceId, NamespaceMetadata] = {}
    errors: dict[NamespaceId, str] = {}
    for ns in ids:
        try:
            found[ns] = store.get(ns)
        except (CorruptMetadataError, NamespaceNotFoundError) as error:
            errors[ns] = str(error)
    return found, errors


def _tree(
    title: str,
    ids: list[NamespaceId],
    metadata: dict[NamespaceId, Any],
    errors: dict[NamespaceId, str] | None = None,
) -> Tree:
    tree = Tree(_shown(title), guide_style="dim")
    nodes: dict[NamespaceId | None, Tree] = {None: tree}
    for ns in ids:
        for level in ns.hierarchy():
            if level in nodes:
                continue
            description = metadata[level].description if level in metadata else None
            label = _shown(level.name) if level in metadata else f"[dim]{_shown(level.name)}[/]"
            if description:
                label += f"  [dim]{_shown(description)}[/]"
            if errors and level in errors:
                label += "  [red](unreadable: see the warning)[/]"
            nodes[level] = nodes[level.parent].add(label)
    if not ids:
        tree.add("[dim](no namespaces)[/]")
    return tree


@contextmanager
def _progress(label: str) -> Iterator[None]:
    """A pulsing progress bar on a terminal; nothing when stderr is piped."""
    console = _stderr()
    if not console.is_terminal:
        yield
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        progress.add_task(label, total=None)
        yield


def _print_report(verb: str, report: TransferReport) -> None:
    typer.echo(f"{verb} {len(report.copied)} namespace(s) from {report.source} to {report.target}")
    for ns in report.copied:
        typer.echo(f"  copied  {ns}")
    for ns in report.skipped:
        typer.echo(f"  kept    {ns}")


NamespaceArgument = Annotated[
    str | None,
    typer.Argument(help="The namespace (with --tree: the subtree; default everything)."),
]
TreeOption = Annotated[bool, typer.Option("--tree", help="Transfer the whole subtree.")]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace namespaces the target already has.")
]


@app.command()
@_reports_errors
def upload(
    namespace: NamespaceArgument = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    tree: TreeOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Copy a namespace (and the parents the remote lacks) or a whole tree to the remote.

    Example: minari-namespaces upload --tree --remote file:///tmp/remote
    """
    service = _service(root, remote)
    _transfer(
        "Uploaded", service.upload, service.upload_tree, namespace, tree=tree, overwrite=overwrite
    )


@app.command()
@_reports_errors
def download(
    namespace: NamespaceArgument = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    tree: TreeOption = False,
    overwrite: OverwriteOption = False,
) -> None:
    """Copy a namespace (and the parents you lack) or a whole tree from the remote.

    Example: minari-namespaces download D4RL/door --remote s3://bucket/minari
    """
    service = _service(root, remote)
    _transfer(
        "Downloaded",
        service.download,
        service.download_tree,
        namespace,
        tree=tree,
        overwrite=overwrite,
    )


def _transfer(
    verb: str,
    one: Callable[..., TransferReport],
    whole_tree: Callable[..., TransferReport],
    namespace: str | None,
    *,
    tree: bool,
    overwrite: bool,
) -> None:
    """Run one transfer or a tree transfer and print its report (``verb``: Uploaded...)."""
    with _progress(verb.removesuffix("ed") + "ing"):
        if tree:
            report = whole_tree(namespace, overwrite=overwrite)
        else:
            report = one(_required(namespace), overwrite=overwrite)
    _print_report(verb, report)


def _required(namespace: str | None) -> str:
    if namespace is None:
        raise typer.BadParameter("give a NAMESPACE, or --tree for everything")
    return namespace


@app.command()
@_reports_errors
def diff(
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Only this namespace and its subtree.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compare the local store with the remote (writes nothing).

    Example: minari-namespaces diff --remote file:///tmp/remote
    """
    result = _service(root, remote).diff(prefix)
    groups = {
        "only_local": result.only_local,
        "only_remote": result.only_remote,
        "different": result.different,
    }
    if as_json:
        _print_json({key: [str(ns) for ns in ids] for key, ids in groups.items()})
        return
    if result.in_sync:
        typer.echo(f"In sync ({len(result.same)} namespace(s) on both sides)")
        return
    for key, ids in groups.items():
        for ns in ids:
            typer.echo(f"{key.replace('_', ' '):<12} {ns}")


def main() -> None:
    """Entry point of the ``minari-namespaces`` console script."""
    app(prog_name="minari-namespaces")


if __name__ == "__main__":  # pragma: no cover
    main()
