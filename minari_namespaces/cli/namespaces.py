"""The command line's commands about namespaces in the local store (``create``,
``show``, ``replace``, ``update-properties``, ``delete``) and ``list``, of either side.
Each is a plain function; :func:`register` adds them to the application, wrapped by
:func:`~minari_namespaces.cli.running.cli_command`. Not part of the library's API.
"""

from __future__ import annotations

from typing import Annotated

import typer

from minari_namespaces.cli.options import (
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
    metadata_from_options,
    open_service,
    refuse_the_other_side,
    refuse_unused,
)
from minari_namespaces.cli.output import print_catalog, print_error, print_json, say
from minari_namespaces.cli.running import cli_command
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata

__all__ = ["register"]


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


def update(_context: typer.Context) -> None:
    """The old name of two commands that do opposite things."""
    print_error(
        "'update' is now two commands that say what they do: 'update-properties' "
        "sets and removes keys and keeps the rest (what 'update' did); 'replace' replaces "
        "all the metadata (what 'update --replace' did)."
    )
    raise typer.Exit(2)


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


def register(app: typer.Typer) -> None:
    """Add the namespace commands to ``app``."""
    for command in (create, show, replace):
        app.command()(cli_command()(command))
    app.command("update-properties")(cli_command()(update_properties))
    app.command(
        "update",
        hidden=True,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(update)
    app.command()(cli_command()(delete))
    app.command("list")(cli_command()(list_namespaces))
