"""The command line's commands about datasets: ``datasets`` lists the Minari datasets
of the local store or the remote, with their episodes, steps and descriptions;
``catalog`` writes pages to browse them.

:func:`register` adds them to the ``minari-namespaces`` application; each is a plain
function wrapped by :func:`~minari_namespaces.cli.running.cli_command`, so one more
command is one more function and one more line there. Not part of the library's API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minari_namespaces.cli.options import (
    FromRemoteOption,
    QuietOption,
    RemoteOption,
    RootOption,
    VerboseOption,
    complete_local,
    open_service,
    prefix_namespace,
    refuse_the_other_side,
)
from minari_namespaces.cli.output import print_catalog_written, print_datasets
from minari_namespaces.cli.running import cli_command
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.service import NamespaceService

__all__ = ["register"]

PrefixArgument = Annotated[
    str | None,
    typer.Argument(
        help="Only the datasets in this namespace or below it, by segments: D4RL/door "
        "holds D4RL/door/human-v2, not D4RL/door-x/play-v0. Default: every dataset.",
        metavar="PREFIX",
        autocompletion=complete_local,
        show_default=False,
    ),
]


def _side(
    root: Path | None, remote: str | None, from_remote: bool, prefix: str | None
) -> tuple[NamespaceService, bool, NamespaceId | None]:
    """The service, whether to read its remote, and the PREFIX as a namespace.
    Naming a remote says which side to read: there is nothing else it could mean.

    Raises:
        typer.BadParameter: If ``--root`` comes with a remote, or PREFIX is no id.
    """
    from_remote = from_remote or remote is not None
    refuse_the_other_side(root, remote, from_remote=from_remote)
    namespace = prefix_namespace(prefix, "PREFIX")
    return open_service(root, remote), from_remote, namespace


def datasets(
    prefix: PrefixArgument = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    from_remote: FromRemoteOption = False,
    latest: Annotated[
        bool, typer.Option("--latest", help="Only the highest version of each dataset.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, one object per dataset.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """List datasets with their episodes, steps, sizes and descriptions: the local store's, or
    the remote's with --remote URL (or --from-remote, for MINARI_REMOTE). Unreadable
    metadata is marked (-v says why) and never stops the listing.

    Example: minari-namespaces datasets D4RL/door --latest --remote hf://farama-minari
    """
    service, from_remote, namespace = _side(root, remote, from_remote, prefix)
    entries = service.list_datasets(
        namespace, remote=from_remote, latest=latest, metadata=True, sizes=True
    )
    print_datasets(entries, namespace, as_json=as_json)


def catalog(
    outdir: Annotated[
        str,
        typer.Argument(
            help="The folder to write the pages into (made if missing; pages of a "
            "previous run there are replaced, other files kept).",
            metavar="OUTDIR",
            show_default=False,
        ),
    ],
    prefix: PrefixArgument = None,
    *,
    root: RootOption = None,
    remote: RemoteOption = None,
    from_remote: FromRemoteOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write pages to browse the namespaces and datasets: OUTDIR/<namespace>/index.md in
    Minari's documentation layout, and one offline OUTDIR/index.html with a search box.
    Reads the local store, or the remote with --remote URL (or --from-remote).

    Example: minari-namespaces catalog site D4RL --remote hf://farama-minari
    """
    from minari_namespaces.catalog.pages import write_catalog

    if not outdir:
        # Path("") is the current folder: an empty argument is a slip, not a choice.
        raise typer.BadParameter("is empty; name a folder ('.' for this one)", param_hint="OUTDIR")
    service, from_remote, namespace = _side(root, remote, from_remote, prefix)
    gathered = service.catalog(namespace, remote=from_remote)
    pages = write_catalog(gathered, outdir)
    print_catalog_written(gathered, pages, Path(outdir))


def register(app: typer.Typer) -> None:
    """Add the dataset commands to ``app``."""
    app.command("datasets")(cli_command()(datasets))
    app.command("catalog")(cli_command()(catalog))
