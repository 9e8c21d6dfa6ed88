"""The ``minari-namespaces`` command: argument parsing and presentation only.

Every command opens a :class:`~minari_namespaces.service.NamespaceService` with
``--root`` (default: Minari's store) and ``--remote`` (default: ``$MINARI_REMOTE``)
and calls it. The command line speaks in its own words: errors name flags
(``--remote``, ``--overwrite``), never Python keywords.

Exit statuses: 0 done; 1 an error (one ``Error:`` line on stderr) or a declined
confirmation; 2 a usage error; 130 interrupted (Ctrl-C). ``diff`` follows
``diff(1)``: 0 in sync, 1 different, 2 trouble.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from rich.tree import Tree

from minari_namespaces import __version__
from minari_namespaces.errors import (
    CorruptMetadataError,
    KeptNamespacesWarning,
    NamespaceError,
    NamespaceNotFoundError,
    RemoteNotConfiguredError,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.service import NamespaceService, TransferReport

__all__ = ["app", "main"]

EPILOG = (
    "Examples:\n\n"
    "  minari-namespaces create D4RL/door --description 'Door opening' --set level=2\n\n"
    "  minari-namespaces list --prefix D4RL\n\n"
    "  minari-namespaces list remote --remote hf://farama-minari\n\n"
    "  minari-namespaces upload --tree --remote s3://bucket/minari\n\n"
    "The store is --root (default $MINARI_DATASETS_PATH, else ~/.minari/datasets); the "
    "remote is --remote (default $MINARI_REMOTE): the Hugging Face Hub (hf://ORG) or "
    "any fsspec URL such as s3://bucket/prefix, gs://bucket or file:///path.\n\n"
    "Exit status: 0 done, 1 error, 2 usage error, 130 interrupted; diff: 0 in sync, "
    "1 different, 2 error."
)

app = typer.Typer(
    name="minari-namespaces",
    help="Create, inspect, change and transfer Minari dataset namespaces.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

P = ParamSpec("P")
R = TypeVar("R")

#: The package's logger; ``--verbose`` shows its records (and its children's).
LOGGER = logging.getLogger("minari_namespaces")
_log = logging.getLogger("minari_namespaces.cli")

#: How many names a report shows before "... and N more" (``--verbose`` shows all).
FIRST_FEW = 10

#: The exit status of an interrupted command, as shells report a SIGINT.
INTERRUPTED = 130

#: -1 with --quiet, 0 by default, 1 with --verbose; set for each command.
_verbosity: ContextVar[int] = ContextVar("verbosity", default=0)
#: (done, total) of the transfer under way, for the line printed on Ctrl-C.
_transferred: ContextVar[tuple[int, int] | None] = ContextVar("transferred", default=None)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _say(text: str) -> None:
    """Print a report line on stdout, unless --quiet."""
    if _verbosity.get() >= 0:
        typer.echo(text)


def _warn(text: str) -> None:
    """Print one ``Warning:`` line on stderr, unless --quiet."""
    if _verbosity.get() >= 0:
        _stderr().print(f"Warning: {_shown(text)}", markup=True)


def _error_text(error: Exception) -> str:
    """The message of ``error`` in the command line's words."""
    if isinstance(error, RemoteNotConfiguredError):
        return (
            "no remote store: give --remote URL or set MINARI_REMOTE (hf://ORG, "
            "s3://bucket/prefix, gs://bucket, file:///path, ...)."
        )
    return str(error)


def _command(error_status: int = 1) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a command with its --quiet/--verbose settings; show library errors as one
    line (exit ``error_status``), warnings as one line each, Ctrl-C as exit 130."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            quiet, verbose = bool(kwargs.get("quiet")), bool(kwargs.get("verbose"))
            if quiet and verbose:
                raise typer.BadParameter("not with --verbose", param_hint="--quiet")
            _verbosity.set(-1 if quiet else int(verbose))
            _transferred.set(None)
            with (
                _logging(quiet=quiet, verbose=verbose),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                # A transfer's report says what it kept, in the command line's words.
                warnings.simplefilter("ignore", KeptNamespacesWarning)
                try:
                    return command(*args, **kwargs)
                except (NamespaceError, ValueError, OSError) as error:
                    _stderr().print(f"Error: {_shown(_error_text(error))}", markup=True)
                    raise typer.Exit(error_status) from None
                except RecursionError:
                    _stderr().print("Error: a value is nested too deeply to be read.")
                    raise typer.Exit(error_status) from None
                except (KeyboardInterrupt, typer.Abort):
                    _stderr().print(_interrupted_text(), markup=False)
                    raise typer.Exit(INTERRUPTED) from None
                finally:
                    for warning in caught:
                        _warn(str(warning.message))

        return wrapper

    return decorate


def _interrupted_text() -> str:
    progress = _transferred.get()
    if progress is None:
        return "Interrupted."
    done, total = progress
    return (
        f"Interrupted after {done:,} of {total:,} namespace(s). What was written is "
        "complete, parents first: run the same command again to finish."
    )


class _PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped, like every other output."""

    def format(self, record: logging.LogRecord) -> str:
        return _printable(super().format(record))


@contextmanager
def _logging(*, quiet: bool, verbose: bool) -> Iterator[None]:
    """--verbose: the package's log records at DEBUG on stderr; --quiet: errors only."""
    if not (quiet or verbose):
        yield
        return
    level = LOGGER.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG if verbose else logging.ERROR)
    LOGGER.setLevel(logging.DEBUG if verbose else logging.ERROR)
    LOGGER.addHandler(handler)
    try:
        yield
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)


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
    service = NamespaceService.from_urls(local=root, remote=remote)
    _log.debug("local store %s, remote store %s", service.local.url, remote or "(none given)")
    return service


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


def _complete_local(incomplete: str) -> list[str]:
    """Shell completion of a NAMESPACE: the local ones that start with ``incomplete``."""
    try:
        ids = NamespaceService.from_urls().list_local()
    except (NamespaceError, OSError):
        return []
    return [str(ns) for ns in ids if str(ns).startswith(incomplete)]


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
        help="The remote store URL (hf://ORG, s3://bucket/prefix, gs://bucket, "
        "file:///path, ...). Default: $MINARI_REMOTE.",
        show_default=False,
    ),
]
PrefixOption = Annotated[
    str | None,
    typer.Option("--prefix", "-p", help="Only this namespace and its subtree.", show_default=False),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing but errors.", show_default=False)
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="List every namespace in reports and show the library's log on stderr.",
        show_default=False,
    ),
]
NamespaceArgument = Annotated[
    str, typer.Argument(help="The namespace, such as D4RL/door.", autocompletion=_complete_local)
]


def _unused(flag: str, value: object, reason: str) -> None:
    """A flag that would be ignored is a usage error, never silently dropped."""
    if value not in (None, False):
        raise typer.BadParameter(f"not used {reason}", param_hint=flag)


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
FromJsonOption = Annotated[
    Path | None,
    typer.Option("--from-json", help="Read metadata from a JSON object in this file."),
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


# -- commands that work on the local store ------------------------------------------


@app.command()
@_command()
def create(
    namespace: Annotated[str, typer.Argument(help="The namespace, such as D4RL/door.")],
    *,
    root: RootOption = None,
    description: DescriptionOption = None,
    sets: SetOption = None,
    from_json: FromJsonOption = None,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Do nothing if it exists already.")
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Create a namespace (and its missing parents, with empty metadata).

    Example: minari-namespaces create D4RL/door -d "Door opening" --set level=2
    """
    service = _service(root)
    ns = NamespaceId(namespace)
    existed = exist_ok and service.exists(ns)
    service.create(ns, metadata=_metadata(description, sets, from_json), exist_ok=exist_ok)
    _say(f"{'Exists' if existed else 'Created'} {ns}")


@app.command()
@_command()
def show(
    namespace: NamespaceArgument,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    from_remote: Annotated[
        bool, typer.Option("--from-remote", help="Read the remote store instead of the local one.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Print a namespace's metadata as JSON.

    Example: minari-namespaces show D4RL/door --from-remote --remote hf://farama-minari
    """
    if from_remote:
        _unused("--root", root, "with --from-remote")
    else:
        _unused("--remote", remote, "without --from-remote")
    _print_json(_service(root, remote).get(namespace, remote=from_remote).to_dict())


@app.command()
@_command()
def replace(
    namespace: NamespaceArgument,
    *,
    root: RootOption = None,
    description: DescriptionOption = None,
    sets: SetOption = None,
    from_json: FromJsonOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Replace ALL of a namespace's metadata (keys not given are removed), as Minari's
    update_namespace_metadata. To change some keys and keep the rest: update-properties.

    Example: minari-namespaces replace D4RL/door -d "Door opening" --set level=3
    """
    metadata = NamespaceMetadata.from_dict(_metadata(description, sets, from_json))
    _service(root).replace(namespace, metadata)
    _say(f"Replaced the metadata of {namespace}")


@app.command("update-properties")
@_command()
def update_properties(
    namespace: NamespaceArgument,
    *,
    root: RootOption = None,
    description: DescriptionOption = None,
    sets: SetOption = None,
    unset: Annotated[
        list[str] | None,
        typer.Option("--unset", help="A key to remove. Repeat for more keys.", show_default=False),
    ] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Set some metadata keys and remove others, keeping the rest (a merge).
    To replace all of it: replace.

    Example: minari-namespaces update-properties D4RL/door --set maintainer=farama --unset draft
    """
    summary = _service(root).update_properties(
        namespace, updates=_metadata(description, sets, None), removals=unset or []
    )
    _say(
        f"Updated {namespace}: set {summary.updated or 'nothing'}, removed "
        f"{summary.removed or 'nothing'}"
        + (f", not present {summary.missing}" if summary.missing else "")
    )


@app.command(
    "update",
    hidden=True,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def update(_context: typer.Context) -> None:
    """The old name of two commands that do opposite things."""
    _stderr().print(
        "Error: 'update' is now two commands that say what they do: 'update-properties' "
        "sets and removes keys and keeps the rest (what 'update' did); 'replace' replaces "
        "all the metadata (what 'update --replace' did)."
    )
    raise typer.Exit(2)


@app.command()
@_command()
def delete(
    namespace: NamespaceArgument,
    *,
    root: RootOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Delete an empty namespace (no datasets, no child namespaces).

    Example: minari-namespaces delete D4RL/door
    """
    _service(root).delete(namespace)
    _say(f"Deleted {namespace}")


@app.command("list")
@_command()
def list_namespaces(
    where: Annotated[
        str,
        typer.Argument(
            help="local (the default: --root), remote (--remote or $MINARI_REMOTE), or a "
            "remote URL.",
            show_default=False,
        ),
    ] = "local",
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    prefix: PrefixOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of {id, metadata} for scripts.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """List namespaces as a tree with their descriptions (or as JSON): the local store's,
    or with "list remote" the remote's.

    Example: minari-namespaces list remote --remote hf://farama-minari --prefix D4RL
    """
    if where == "local":
        _unused("--remote", remote, "by 'list' (local); did you mean 'list remote'?")
    elif where == "remote" or "://" in where:
        _unused("--root", root, "by 'list remote'")
        if where != "remote":
            _unused("--remote", remote, "with a URL argument")
            remote = where
    else:
        raise typer.BadParameter(
            f"expected local, remote or a URL such as s3://bucket, got {where!r}",
            param_hint="WHERE",
        )
    from_remote = where != "local"
    service = _service(root, remote)
    store = service.remote if from_remote else service.local
    ids = service.list_remote(prefix) if from_remote else service.list_local(prefix)
    metadata, errors = _read_each(store, ids)
    for error in errors.values():
        _warn(error)
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


# -- transfers -----------------------------------------------------------------------


class _CountColumn(ProgressColumn):
    """Namespaces done out of the total, once the total is known."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(
            f"{task.completed:,.0f}/{task.total:,.0f} namespaces", style="progress.download"
        )


class _RateColumn(ProgressColumn):
    """Namespaces per second since the start (a count, not bytes)."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time or task.elapsed
        if not (elapsed and task.completed):
            return Text("")
        return Text(f"{task.completed / elapsed:,.0f}/s", style="progress.data.speed")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A callback for the service's transfers: it keeps how far the transfer got (for
    Ctrl-C) and, when stderr is a terminal and not --quiet, draws a bar with
    done/total, rate and time. Nothing is drawn when stderr is piped."""

    def record(done: int, total: int) -> None:
        _transferred.set((done, total))

    console = _stderr()
    if not console.is_terminal or _verbosity.get() < 0:
        yield record
        return
    columns = (TextColumn("{task.description}"), BarColumn(), _CountColumn(), _RateColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(label, total=None)

        def draw(done: int, total: int) -> None:
            record(done, total)
            progress.update(task, completed=done, total=total)

        yield draw


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _names(ids: list[NamespaceId]) -> str:
    """The first few ``ids`` (all with --verbose) and how many more."""
    shown = ids if _verbosity.get() > 0 else ids[:FIRST_FEW]
    text = ", ".join(f"'{ns}'" for ns in shown)
    if len(shown) < len(ids):
        text += f" and {len(ids) - len(shown):,} more (--verbose lists them all)"
    return text


def _print_report(verb: str, report: TransferReport) -> None:
    """One summary line; a line per namespace written (the first few unless --verbose);
    one warning for the namespaces that differ and were kept."""
    done = f"Would {verb}" if report.dry_run else f"{verb.capitalize()}ed"
    same = len(report.unchanged)
    if report.up_to_date:
        if same:
            _say(f"Up to date: {same:,} namespace(s) already the same in {report.target}")
        else:
            _say(f"Nothing to {verb}: no namespace there in {report.source}")
    elif report.copied:
        replaced = f" ({len(report.replaced):,} replaced)" if report.replaced else ""
        unchanged = f"; {same:,} already up to date" if same else ""
        _say(
            f"{done} {len(report.copied):,} namespace(s) from {report.source} to "
            f"{report.target}{replaced}{unchanged}"
        )
        replaced_ids = set(report.replaced)
        shown = report.copied if _verbosity.get() > 0 else report.copied[:FIRST_FEW]
        for ns in shown:
            _say(f"  {'replaced' if ns in replaced_ids else 'copied':<9} {ns}")
        if len(shown) < len(report.copied):
            _say(f"  ... and {len(report.copied) - len(shown):,} more (--verbose lists them all)")
    else:
        _say(f"{done} nothing; {same:,} namespace(s) already up to date")
    if report.skipped:
        kept = "would be kept" if report.dry_run else "were kept"
        _warn(
            f"{len(report.skipped):,} namespace(s) differ in {report.target} and {kept}: "
            f"{_names(report.skipped)}. --overwrite replaces them."
        )


TransferNamespace = Annotated[
    str | None,
    typer.Argument(
        help="The namespace (with --tree: the subtree; default everything).",
        autocompletion=_complete_local,
        show_default=False,
    ),
]
TreeOption = Annotated[bool, typer.Option("--tree", help="Transfer the whole subtree.")]
OverwriteOption = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace namespaces whose metadata differs on the target (asks first when "
        "run at a terminal).",
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", "-f", help="--overwrite without asking (as Minari's -f).")
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask before --overwrite replaces metadata.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", "-n", help="Write nothing; print what would be copied.")
]


@app.command()
@_command()
def upload(
    namespace: TransferNamespace = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    tree: TreeOption = False,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Copy a namespace (and the parents the remote lacks) or a whole tree to the remote.

    Example: minari-namespaces upload --tree --remote file:///tmp/remote
    """
    _unused("--yes", yes and not (overwrite or force), "without --overwrite")
    service = _service(root, remote)
    _transfer(
        "upload",
        service.upload if not tree else service.upload_tree,
        namespace,
        tree=tree,
        overwrite=overwrite or force,
        ask=not (yes or force or dry_run),
        dry_run=dry_run,
    )


@app.command()
@_command()
def download(
    namespace: TransferNamespace = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    tree: TreeOption = False,
    overwrite: OverwriteOption = False,
    force: ForceOption = False,
    yes: YesOption = False,
    dry_run: DryRunOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Copy a namespace (and the parents you lack) or a whole tree from the remote.

    Example: minari-namespaces download D4RL/door --remote s3://bucket/minari
    """
    _unused("--yes", yes and not (overwrite or force), "without --overwrite")
    service = _service(root, remote)
    _transfer(
        "download",
        service.download if not tree else service.download_tree,
        namespace,
        tree=tree,
        overwrite=overwrite or force,
        ask=not (yes or force or dry_run),
        dry_run=dry_run,
    )


def _transfer(
    verb: str,
    run: Callable[..., TransferReport],
    namespace: str | None,
    *,
    tree: bool,
    overwrite: bool,
    ask: bool,
    dry_run: bool,
) -> None:
    """Run a transfer (asking first, on a terminal, before --overwrite replaces
    anything) and print its report."""
    if namespace is None and not tree:
        raise typer.BadParameter("give a NAMESPACE, or --tree for everything")
    if overwrite and ask and _stdin_is_terminal():
        plan = run(namespace, overwrite=True, dry_run=True)
        if plan.replaced and not _confirm_replacing(plan):
            _stderr().print("Nothing was written.")
            raise typer.Exit(1)
    if dry_run:
        report = run(namespace, overwrite=overwrite, dry_run=True)
    else:
        with _progress(f"{verb.capitalize()}ing") as progress:
            report = run(namespace, overwrite=overwrite, progress=progress)
    _print_report(verb, report)


def _confirm_replacing(plan: TransferReport) -> bool:
    _stderr().print(
        f"{len(plan.replaced):,} namespace(s) differ in {_shown(plan.target)}: "
        f"{_shown(_names(plan.replaced))}."
    )
    return typer.confirm(
        f"Replace their metadata with the copy from {plan.source}?", default=False, err=True
    )


# -- diff ----------------------------------------------------------------------------


@app.command()
@_command(error_status=2)
def diff(
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    prefix: PrefixOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print nothing; only the exit status tells."),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Compare the local store with the remote (writes nothing). Exit status, as
    diff(1): 0 in sync, 1 different, 2 error.

    Example: minari-namespaces diff --remote file:///tmp/remote || echo "out of sync"
    """
    result = _service(root, remote).diff(prefix)
    groups = {
        "only_local": result.only_local,
        "only_remote": result.only_remote,
        "different": result.different,
    }
    if as_json:
        if not quiet:
            _print_json({key: [str(ns) for ns in ids] for key, ids in groups.items()})
    elif result.in_sync:
        _say(f"In sync ({len(result.same):,} namespace(s) on both sides)")
    else:
        for key, ids in groups.items():
            for ns in ids:
                _say(f"{key.replace('_', ' '):<12} {ns}")
    if not result.in_sync:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``minari-namespaces`` console script."""
    app(prog_name="minari-namespaces")


if __name__ == "__main__":  # pragma: no cover
    main()
