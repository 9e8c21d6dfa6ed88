"""The ``minari-namespaces`` command: its commands, their arguments, and what they ask
of a :class:`~minari_namespaces.service.NamespaceService` opened with ``--root`` and
``--remote``. How a command runs and prints (exit statuses 0 done, 1 error, 2 usage,
130 Ctrl-C; ``diff``: 0 in sync, 1 different, 2 error) is :mod:`~minari_namespaces.terminal`;
the options every command shares are :mod:`~minari_namespaces.cli_options`; the commands
about datasets live in :mod:`~minari_namespaces.cli_datasets` and are registered here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer

from minari_namespaces import __version__
from minari_namespaces.cli_datasets import register as register_dataset_commands
from minari_namespaces.cli_options import (
    DescriptionOption,
    FromJsonOption,
    FromRemoteOption,
    NamespaceArgument,
    PrefixOption,
    QuietOption,
    RemoteOption,
    RootOption,
    SetOption,
    VerboseOption,
    complete_local,
    metadata_from_options,
    open_service,
    refuse_the_other_side,
    refuse_unused,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.service import TransferReport
from minari_namespaces.terminal import (
    cli_command,
    confirm_replacing,
    print_catalog,
    print_diff,
    print_error,
    print_json,
    print_report,
    print_version,
    say,
    transfer_progress,
)

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


def _version(value: bool) -> None:
    if value:
        print_version(__version__)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Create, inspect, change and transfer Minari dataset namespaces."""


# -- commands that work on the local store ------------------------------------------


@app.command()
@cli_command()
def create(
    namespace: NamespaceArgument,
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
    service = open_service(root)
    ns = NamespaceId(namespace)
    existed = exist_ok and service.exists(ns)
    service.create(
        ns, metadata=metadata_from_options(description, sets, from_json), exist_ok=exist_ok
    )
    say(f"{'Exists' if existed else 'Created'} {ns}")


@app.command()
@cli_command()
def show(
    namespace: NamespaceArgument,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    from_remote: FromRemoteOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Print a namespace's metadata as JSON.

    Example: minari-namespaces show D4RL/door --from-remote --remote hf://farama-minari
    """
    refuse_the_other_side(root, remote, from_remote=from_remote)
    print_json(open_service(root, remote).get(namespace, remote=from_remote).to_dict())


@app.command()
@cli_command()
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
    metadata = NamespaceMetadata.from_dict(metadata_from_options(description, sets, from_json))
    open_service(root).replace(namespace, metadata)
    say(f"Replaced the metadata of {namespace}")


@app.command("update-properties")
@cli_command()
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
    summary = open_service(root).update_properties(
        namespace, updates=metadata_from_options(description, sets, None), removals=unset or []
    )
    say(
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
    print_error(
        "'update' is now two commands that say what they do: 'update-properties' "
        "sets and removes keys and keeps the rest (what 'update' did); 'replace' replaces "
        "all the metadata (what 'update --replace' did)."
    )
    raise typer.Exit(2)


@app.command()
@cli_command()
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
    open_service(root).delete(namespace)
    say(f"Deleted {namespace}")


@app.command("list")
@cli_command()
def list_namespaces(
    where: Annotated[
        str,
        typer.Argument(
            help="local (the default: --root), remote (--remote or $MINARI_REMOTE), or a "
            "remote URL.",
            metavar="WHERE",
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
    with_datasets: Annotated[
        bool,
        typer.Option(
            "--datasets",
            help="Show the datasets in each namespace, with episodes and steps "
            '(--json: {"namespaces": [...], "datasets": [...]}).',
        ),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """List namespaces as a tree with their descriptions (or as JSON): the local store's,
    or with "list remote" the remote's; with --datasets, their datasets too.

    Example: minari-namespaces list remote --remote hf://farama-minari --prefix D4RL
    """
    if where == "local":
        refuse_unused("--remote", remote, "by 'list' (local); did you mean 'list remote'?")
    elif where == "remote" or "://" in where:
        refuse_unused("--root", root, "by 'list remote'")
        if where != "remote":
            refuse_unused("--remote", remote, "with a URL argument")
            remote = where
    else:
        raise typer.BadParameter(
            f"expected local, remote or a URL such as s3://bucket, got {where!r}",
            param_hint="WHERE",
        )
    catalog = open_service(root, remote).catalog(
        prefix, remote=where != "local", datasets=with_datasets
    )
    print_catalog(catalog, as_json=as_json, with_datasets=with_datasets)


# The datasets command comes right after list in the help.
register_dataset_commands(app)

# -- transfers -----------------------------------------------------------------------


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


TransferNamespace = Annotated[
    str | None,
    typer.Argument(
        help="The namespace (with --tree: the subtree; default everything).",
        metavar="NAMESPACE",
        autocompletion=complete_local,
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


def _transfer_command(verb: str, summary: str, example: str) -> None:
    """Register ``upload`` or ``download``: the same options, opposite directions."""

    def command(
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
        refuse_unused("--yes", yes and not (overwrite or force), "without --overwrite")
        service = open_service(root, remote)
        one, whole = (
            (service.upload, service.upload_tree)
            if verb == "upload"
            else (service.download, service.download_tree)
        )
        _transfer(
            verb,
            whole if tree else one,
            namespace,
            tree=tree,
            overwrite=overwrite or force,
            ask=not (yes or force or dry_run),
            dry_run=dry_run,
        )

    command.__name__ = verb
    command.__doc__ = f"{summary}\n\nExample: minari-namespaces {verb} {example}"
    app.command(verb)(cli_command()(command))


_transfer_command(
    "upload",
    "Copy a namespace (and the parents the remote lacks) or a whole tree to the remote.",
    "--tree --remote file:///tmp/remote",
)
_transfer_command(
    "download",
    "Copy a namespace (and the parents you lack) or a whole tree from the remote.",
    "D4RL/door --remote s3://bucket/minari",
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
        if plan.replaced and not confirm_replacing(plan):
            raise typer.Exit(1)
    if dry_run:
        report = run(namespace, overwrite=overwrite, dry_run=True)
    else:
        with transfer_progress(f"{verb.capitalize()}ing") as progress:
            report = run(namespace, overwrite=overwrite, progress=progress)
    print_report(verb, report)


# -- diff ----------------------------------------------------------------------------


@app.command()
@cli_command(error_status=2)
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
    result = open_service(root, remote).diff(prefix)
    print_diff(result, as_json=as_json)
    if not result.in_sync:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``minari-namespaces`` console script."""
    app(prog_name="minari-namespaces")


if __name__ == "__main__":  # pragma: no cover
    main()
