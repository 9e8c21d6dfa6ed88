"""What the stand-in Hub stores: repositories, their commits and files.

It knows nothing of HTTP: every refusal is a :class:`HubModelError` subclass,
which :mod:`minari_namespaces.testing.hub.http` turns into the Hub's status codes
and ``X-Error-Code`` headers. Repositories live in memory with a linear history
of commits (each a full snapshot), so parent-commit checks, revisions and
resolves behave as on the Hub. Standard library only; thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "EntryNotFoundError",
    "HubModel",
    "HubModelError",
    "RepoExistsError",
    "RepoNotFoundError",
    "Repository",
    "RevisionNotFoundError",
    "StaleParentError",
    "blob_id",
]

_GITATTRIBUTES: Final = b"*.h5 filter=lfs diff=lfs merge=lfs -text\n"


def blob_id(data: bytes) -> str:
    """Git's object id of a file (what the Hub reports as a file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class HubModelError(Exception):
    """A request the stored repositories refuse; the message says why."""


class RepoNotFoundError(HubModelError):
    """No repository of that kind and id."""


class RevisionNotFoundError(HubModelError):
    """No commit or branch of that name in the repository."""


class EntryNotFoundError(HubModelError):
    """No file or folder at that path at that revision."""


class RepoExistsError(HubModelError):
    """A repository of that kind and id exists already."""


class StaleParentError(HubModelError):
    """The commit names a parent that is no longer the head."""


@dataclass
class Repository:
    """A repository: commits oldest first, each ``(oid, files)``."""

    kind: str
    repo_id: str
    history: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)

    @property
    def head(self) -> tuple[str, dict[str, bytes]]:
        """The newest commit: its id and files."""
        return self.history[-1]

    def at(self, revision: str) -> tuple[str, dict[str, bytes]]:
        """The commit ``revision`` names (``main``: the head).

        Raises:
            RevisionNotFoundError: If no commit has that id.
        """
        if revision == "main":
            return self.head
        for oid, files in self.history:
            if oid == revision:
                return oid, files
        raise RevisionNotFoundError(f"Invalid rev id: {revision}")


class HubModel:
    """Every repository of the stand-in Hub, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repository] = {}
        self._commits = 0

    def reset(self) -> None:
        """Forget every repository."""
        with self._lock:
            self._repos.clear()

    def repository(self, kind: str, repo_id: str) -> Repository:
        """The repository ``repo_id`` of ``kind``.

        Raises:
            RepoNotFoundError: If it does not exist.
        """
        with self._lock:
            repo = self._repos.get((kind, repo_id))
        if repo is None:
            raise RepoNotFoundError(f"Repository Not Found for url: {repo_id}.")
        return repo

    def snapshot(self, kind: str, repo_id: str, revision: str) -> tuple[str, dict[str, bytes]]:
        """The commit id and files of ``repo_id`` at ``revision``.

        Raises:
            RepoNotFoundError: If the repository does not exist.
            RevisionNotFoundError: If the revision does not.
        """
        with self._lock:
            oid, files = self.repository(kind, repo_id).at(revision)
            return oid, dict(files)

    def create(self, kind: str, repo_id: str) -> None:
        """Create a repository (with the Hub's ``.gitattributes``).

        Raises:
            RepoExistsError: If it exists already.
        """
        with self._lock:
            if (kind, repo_id) in self._repos:
                raise RepoExistsError(f"You already created this {kind} repo")
            repo = Repository(kind, repo_id)
            self._append(repo, {".gitattributes": _GITATTRIBUTES})
            self._repos[(kind, repo_id)] = repo

    def ensure(self, kind: str, repo_id: str) -> None:
        """Create the repository unless it exists."""
        with self._lock:
            if (kind, repo_id) not in self._repos:
                self.create(kind, repo_id)

    def delete(self, kind: str, repo_id: str) -> None:
        """Delete a repository.

        Raises:
            RepoNotFoundError: If it does not exist.
        """
        with self._lock:
            self.repository(kind, repo_id)
            del self._repos[(kind, repo_id)]

    def repositories(self, kind: str) -> list[Repository]:
        """Every repository of ``kind``, by id."""
        with self._lock:
            return [repo for (k, _), repo in sorted(self._repos.items()) if k == kind]

    def commit(
        self,
        kind: str,
        repo_id: str,
        adds: dict[str, bytes],
        deletes: list[tuple[str, bool]],
        parent: str | None = None,
    ) -> str:
        """Apply one commit on the head: ``deletes`` (``(path, is_folder)``) then
        ``adds``; return the new commit's id.

        Raises:
            RepoNotFoundError: If the repository does not exist.
            StaleParentError: If ``parent`` is given and is not the head.
            EntryNotFoundError: If a deleted path does not exist.
        """
        with self._lock:
            repo = self.repository(kind, repo_id)
            head, files = repo.head
            if parent is not None and parent != head:
                raise StaleParentError("A commit has happened since. Please refresh and try again.")
            updated = dict(files)
            for path, is_folder in deletes:
                doomed = [
                    n for n in updated if n == path or (is_folder and n.startswith(f"{path}/"))
                ]
                if not doomed:
                    raise EntryNotFoundError("A file with this name doesn't exist")
                for name in doomed:
                    del updated[name]
            updated.update(adds)
            return self._append(repo, updated)

    def commits(self, kind: str, repo_id: str) -> int:
        """How many commits ``repo_id`` has (its creation included; 0 if missing)."""
        with self._lock:
            repo = self._repos.get((kind, repo_id))
            return len(repo.history) if repo else 0

    def _append(self, repo: Repository, files: dict[str, bytes]) -> str:
        self._commits += 1
        parent = repo.history[-1][0] if repo.history else ""
        oid = hashlib.sha1(
            f"{repo.repo_id}:{parent}:{self._commits}".encode(), usedforsecurity=False
        ).hexdigest()
        repo.history.append((oid, files))
        return oid
