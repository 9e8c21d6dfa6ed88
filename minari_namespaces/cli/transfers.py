"""The command line's transfers between the local store and the remote: ``upload``,
``download`` (the same options, opposite directions) and ``diff``. Each is a plain
function; :func:`register` adds them to the application, wrapped by
:func:`~minari_namespaces.cli.running.cli_command`. Not part of the library's API.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import typer

from minari_namespaces.cli.options import (
    PrefixOption,
    QuietOption,
    RemoteOption,
    RootOption,
    VerboseOption,
    complete_local,
    open_service,
    refuse_unused,
)
from minari_namespaces.cli.output import confirm_replacing, print_diff, print_report
from minari_namespaces.cli.running import cli_command, transfer_progress
from minari_namespaces.service import TransferReport

__all__ = ["register"]


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
    refuse_unused("--yes", yes and not (overwrite or force), "without --overwrite")
    service = open_service(root, remote)
    _transfer(
        "upload",
        service.upload_tree if tree else service.upload,
        namespace,
        tree=tree,
        overwrite=overwrite or force,
        ask=not (yes or force or dry_run),
        dry_run=dry_run,
    )


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
    refuse_unused("--yes", yes and not (overwrite or force), "without --overwrite")
    service = open_service(root, remote)
    _transfer(
        "download",
        service.download_tree if tree else service.download,
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
        if plan.replaced and not confirm_replacing(plan):
            raise typer.Exit(1)
    if dry_run:
        report = run(namespace, overwrite=overwrite, dry_run=True)
    else:
        with transfer_progress(f"{verb.capitalize()}ing") as progress:
            report = run(namespace, overwrite=overwrite, progress=progress)
    print_report(verb, report)


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


def register(app: typer.Typer) -> None:
    """Add the transfer commands to ``app``."""
    app.command()(cli_command()(upload))
    app.command()(cli_command()(download))
    app.command()(cli_command(error_status=2)(diff))
