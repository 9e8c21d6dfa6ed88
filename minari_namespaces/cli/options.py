"""What the commands of :mod:`minari_namespaces.cli` share: the ``--root``,
``--remote``, ``--from-remote``, ``--prefix``, ``-q`` and ``-v`` options, the NAMESPACE
and PREFIX arguments (with shell completion), the metadata that ``--description``,
``--set`` and ``--from-json`` give, the usage errors they raise in the
command line's own words, and the :class:`~minari_namespaces.service.NamespaceService`
they open. A module of commands builds on this one and on
:mod:`~minari_namespaces.cli.output`; :mod:`~minari_namespaces.cli` registers them all.
Not part of the library's API.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from minari_namespaces.cli.output import printable
from minari_namespaces.errors import InvalidNamespaceError, NamespaceError
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.repository import open_repository, remote_from_environment
from minari_namespaces.service import NamespaceService
from minari_namespaces.stores.credentials import carries_credentials

__all__: list[str] = []

_log = logging.getLogger("minari_namespaces.cli")


def open_service(
    root: Path | None, remote: str | None = None, *, transfer: bool = False
) -> NamespaceService:
    """The service over ``--root`` and ``--remote`` (default ``$MINARI_REMOTE``); for
    a ``transfer`` (``upload``, ``download``), stores that do not overlap.

    Raises:
        typer.BadParameter: If the remote URL carries a user or a password (a usage
            error, raised before any backend is loaded: the backend's own way of
            giving credentials keeps them out of shell history); for a
            ``transfer``, if one store is the other or lies inside it.
        RemoteError: If the remote's backend cannot be loaded.
    """
    url = remote if remote is not None else remote_from_environment()
    if url is not None:
        _refuse_credentials(url, "--remote / MINARI_REMOTE")
    service = NamespaceService.from_urls(local=root, remote=url)
    _log.debug("local store %s, remote store %s", service.local.url, url or "(none given)")
    if transfer and url is not None:
        _refuse_overlap(service.local.url, service.remote.url, _LOCAL_AND_REMOTE)
    return service


def open_stores(source: str, target: str) -> NamespaceService:
    """A service that copies from the store at ``source`` to the one at ``target``
    (each a URL or a local folder), for ``mirror``: its "local" side is the source.

    Raises:
        typer.BadParameter: If a URL carries a user or a password (see
            :func:`open_service`), or one store is the other or lies inside it.
        RemoteError: If a backend cannot be loaded.
    """
    _refuse_credentials(source, "SRC_URL")
    _refuse_credentials(target, "DST_URL")
    _log.debug("copying from %s to %s", source, target)
    service = NamespaceService(open_repository(source), open_repository(target))
    _refuse_overlap(service.local.url, service.remote.url, _SOURCE_AND_TARGET)
    return service


def _place(url: str) -> tuple[str, tuple[str, ...]]:
    """Where the store at ``url`` (a repository's URL) lives: its kind of storage,
    whatever alias names it, and its path segments; a local folder and a ``file://``
    URL are resolved, so every spelling of one folder is one place."""
    from fsspec import get_filesystem_class

    protocol, separator, path = url.partition("://")
    if not separator:
        protocol, path = "file", url
    with suppress(ImportError, ValueError):
        known = get_filesystem_class(protocol).protocol
        protocol = known if isinstance(known, str) else known[0]
    if protocol == "file":
        path = os.path.realpath(path)
    return protocol, tuple(part for part in path.split("/") if part)


@dataclass(frozen=True)
class _Sides:
    """How a usage error names the two stores of a transfer, and the option to fix."""

    first: str
    second: str
    option: str


_SOURCE_AND_TARGET: Final = _Sides("the source", "target", "DST_URL")
_LOCAL_AND_REMOTE: Final = _Sides("the local store", "remote", "--remote")


def _refuse_overlap(first: str, second: str, sides: _Sides) -> None:
    """Refuse two stores of which one is the other or lies inside it (as rclone
    does): each run would copy the copy again, nesting it deeper.

    Raises:
        typer.BadParameter: If they overlap.
    """
    (kind, mine), (other, theirs) = _place(first), _place(second)
    if kind != other or mine[: len(theirs)] != theirs[: len(mine)]:
        return
    if mine == theirs:
        said = f"{second} is {sides.first} itself"
    elif len(theirs) > len(mine):
        said = f"{second} lies inside {sides.first} {first}"
    else:
        said = f"{sides.first} {first} lies inside {second}"
    raise typer.BadParameter(
        f"the stores overlap: {said}. Choose a {sides.second} that neither holds "
        f"{sides.first} nor lies in it.",
        param_hint=sides.option,
    )


def _refuse_credentials(url: str, param_hint: str) -> None:
    if carries_credentials(url):
        raise typer.BadParameter(
            "the URL carries credentials ('user:password@' or 'user@'): give them the "
            "backend's own way instead (for S3 the AWS_* variables or ~/.aws, for the Hub "
            "HF_TOKEN)",
            param_hint=param_hint,
        )


def refuse_unused(flag: str, value: object, reason: str) -> None:
    """A flag that would be ignored is a usage error, never silently dropped.

    Raises:
        typer.BadParameter: If ``value`` is set (neither ``None`` nor ``False``).
    """
    if value not in (None, False):
        raise typer.BadParameter(f"not used {reason}", param_hint=flag)


def refuse_the_other_side(root: Path | None, remote: str | None, *, from_remote: bool) -> None:
    """With ``--from-remote`` the command reads the remote, so ``--root`` would be
    ignored; without it, the local store, so ``--remote`` would be.

    Raises:
        typer.BadParameter: If the flag of the side not read is given.
    """
    if from_remote:
        refuse_unused("--root", root, "with --from-remote")
    else:
        refuse_unused("--remote", remote, "without --from-remote")


def prefix_namespace(text: str | None, param_hint: str) -> NamespaceId | None:
    """``text`` as the namespace a listing is limited to (``None``: everything).

    Raises:
        typer.BadParameter: If ``text`` is not a valid namespace id (a usage error,
            said in the command line's words and with control characters escaped).
    """
    if text is None:
        return None
    try:
        return NamespaceId(text)
    except InvalidNamespaceError as error:
        raise typer.BadParameter(
            f"{text!r} is not a namespace such as D4RL/door: {printable(error.reason)}",
            param_hint=param_hint,
        ) from None


def complete_local(incomplete: str) -> list[str]:
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
FromRemoteOption = Annotated[
    bool, typer.Option("--from-remote", help="Read the remote store instead of the local one.")
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
    str,
    typer.Argument(
        help="The namespace, such as D4RL/door.",
        metavar="NAMESPACE",
        autocompletion=complete_local,
    ),
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


def metadata_from_options(
    description: str | None, sets: list[str] | None, from_json: Path | None
) -> dict[str, Any]:
    """The metadata that ``--from-json``, then ``--set`` and then ``--description`` give,
    each overriding the one before.

    Raises:
        typer.BadParameter: If a ``--set`` is not KEY=VALUE, or the ``--from-json`` file
            cannot be read, is not a JSON object, or either is nested too deeply.
    """
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
