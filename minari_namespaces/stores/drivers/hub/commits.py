"""One commit on the Hub: what it writes (a :class:`Plan` on a :class:`Snapshot`),
sending it with its parent commit (the Hub answers 412 when the head moved), and
telling, after a lost answer, whether it landed. The loop that retries it, with the
registry kept true, is :meth:`~minari_namespaces.stores.drivers.hub.driver.HubDriver._commit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from minari_namespaces.stores.drivers.hub.client import transport_errors, was_committed
from minari_namespaces.stores.drivers.status import (
    PRECONDITION_FAILED,
    SERVER_ERROR,
    TOO_MANY_REQUESTS,
    status_of,
)

__all__ = [
    "LANDED",
    "REPO_TYPE",
    "STALE",
    "Plan",
    "Snapshot",
    "Staged",
    "git_blob_id",
    "held_exactly",
    "send",
]

#: Minari's namespaces live in dataset repositories.
REPO_TYPE: Final = "dataset"
#: What :func:`send` says of a commit (besides a lost answer's error).
LANDED: Final = object()
STALE: Final = object()


@dataclass
class Snapshot:
    """A repository at one commit: its files and its root metadata."""

    sha: str | None
    files: set[str] = field(default_factory=set)
    root: bytes | None = None


@dataclass(frozen=True, eq=False)
class Staged:
    """A file ready to commit: its ``CommitOperationAdd`` (content on disk, large
    files already sent through LFS by ``preupload_lfs_files``) and what the Hub will
    list for it once committed.

    Attributes:
        operation: The client's ``CommitOperationAdd``.
        size: The content's size in bytes.
        sha256: Its SHA-256 (what the Hub lists for an LFS file).
        blob_id: Git's id of it (what the Hub lists for a file kept in git).
    """

    operation: Any
    size: int
    sha256: str
    blob_id: str


@dataclass
class Plan:
    """What one commit writes and deletes (paths inside the repository), and the
    datasets it completes (to enter in the root's ``datasets`` registry)."""

    adds: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    files: dict[str, Staged] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)


def git_blob_id(data: bytes) -> str:
    """Git's id of a file holding ``data``: what the Hub lists as its ``blob_id``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def send(
    api: Any,
    repo: str,
    *,
    parent: str | None,
    changes: dict[str, bytes],
    deletes: list[str],
    summary: str,
    files: Iterable[Staged] = (),
) -> object:
    """Send one commit on ``parent``: :data:`LANDED`, :data:`STALE` (the head moved,
    or the client skipped it because another writer stored these very bytes), or the
    error to wait out: a 429, or a failure whose answer was lost (the commit may have
    landed).

    Raises:
        huggingface_hub.errors.HfHubHTTPError: If the Hub refused the commit (4xx
            other than 412 and 429).
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub.errors import HfHubHTTPError

    adds = [
        CommitOperationAdd(path_in_repo=path, path_or_fileobj=payload)
        for path, payload in sorted(changes.items())
    ] + [staged.operation for staged in files]
    removals = [CommitOperationDelete(path_in_repo=path) for path in deletes]
    try:
        api.create_commit(
            repo,
            operations=[*adds, *removals],
            commit_message=summary,
            repo_type=REPO_TYPE,
            parent_commit=parent,
        )
    except HfHubHTTPError as error:
        status = status_of(error)
        if status == PRECONDITION_FAILED:
            return STALE
        if status == TOO_MANY_REQUESTS:
            return error  # refused before it was applied; nothing to look for
        if status is not None and status >= SERVER_ERROR:
            return error
        raise
    except transport_errors() as error:
        return error
    if removals or any(was_committed(add) for add in adds):
        return LANDED
    # The client skipped the commit: another writer stored these very bytes
    # after our read. Read again; the retry is a true no-op.
    return STALE


def held_exactly(
    entries: Iterable[Any],
    changes: dict[str, bytes],
    deletes: list[str],
    files: dict[str, Staged] | None = None,
) -> bool:
    """Whether the tree ``entries`` of a head hold exactly the bytes a commit wrote
    (``changes``, and the staged ``files``: by git's id, or by SHA-256 for an LFS
    file) and none of the files it deleted: the commit landed though its answer was
    lost. (Another writer storing the very same bytes meanwhile reads the same, and
    leaves the same end state.)"""
    from huggingface_hub import RepoFile

    held = {
        str(entry.path): entry.lfs.sha256 if entry.lfs else str(entry.blob_id)
        for entry in entries
        if isinstance(entry, RepoFile)
    }
    wanted = {path: {git_blob_id(data)} for path, data in changes.items()}
    wanted.update({path: {one.sha256, one.blob_id} for path, one in (files or {}).items()})
    return all(held.get(path) in ids for path, ids in wanted.items()) and not (
        set(deletes) & set(held)
    )
