"""What the stand-in Hub stores: repositories, their commits and files.

It knows nothing of HTTP: every refusal is a :class:`HubModelError` subclass,
which :mod:`minari_namespaces.testing.hub.http` turns into the Hub's status codes
and ``X-Error-Code`` headers. Repositories live in memory with a linear history
of commits (each a full snapshot), so parent-commit checks, revisions and
resolves behave as on the Hub. Standard library only; thread-safe.

Git LFS as the Hub keeps it: a repository holds its large-file objects by sha256
(uploaded before the commit that names them); a file is stored through LFS when it
is at least :data:`LFS_THRESHOLD` bytes, when its first bytes hold a NUL (git's
sign of a binary file; the Hub refuses binary files outside LFS), or when the
repository's ``.gitattributes`` gives its path ``filter=lfs``. New repositories get
:data:`DATASET_GITATTRIBUTES`, this stand-in's list of the file types the Hub sends
to LFS by default.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

__all__ = [
    "DATASET_GITATTRIBUTES",
    "LFS_THRESHOLD",
    "Blob",
    "EntryNotFoundError",
    "FileTooLargeError",
    "HubModel",
    "HubModelError",
    "LfsObjectError",
    "LfsReference",
    "RepoExistsError",
    "RepoNotFoundError",
    "Repository",
    "RevisionNotFoundError",
    "StaleParentError",
    "blob_id",
    "lfs_pointer",
]

#: Files of at least this many bytes go through LFS (the Hub's 10 MiB limit on
#: plain git files).
LFS_THRESHOLD: Final = 10 * 1024 * 1024
#: How many leading bytes the client sends for the server to tell binary from text.
SAMPLE_BYTES: Final = 512

_LFS_TYPES: Final = {
    "archives": "*.7z *.bz2 *.gz *.lz4 *.rar *.tar *.tar.* *.tgz *.xz *.zip *.zst",
    "arrays and tables": "*.arrow *.mds *.npy *.npz *.parquet *.pickle *.pkl *.joblib",
    "models and checkpoints": (
        "*.bin *.ckpt *.ftz *.h5 *.lfs.* *.mlmodel *.model *.msgpack *.onnx *.ot *.pb"
        " *.pt *.pth *.safetensors *.tflite *.wasm *tfevents* saved_model/**/*"
    ),
    "audio": "*.aac *.flac *.m4a *.mp3 *.ogg *.opus *.pcm *.raw *.sam *.wav",
    "images and video": "*.avif *.gif *.jpeg *.jpg *.png *.tiff *.webp *.mp4 *.webm",
}
#: The ``.gitattributes`` a new dataset repository starts with: the file types the
#: Hub stores with LFS by default (this stand-in's own list of them).
DATASET_GITATTRIBUTES: Final = "".join(
    f"# {kind}\n"
    + "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in line.split())
    for kind, line in _LFS_TYPES.items()
).encode()


def blob_id(data: bytes) -> str:
    """Git's object id of a file (what the Hub reports as a file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer file git keeps in place of an LFS file (Git LFS spec v1)."""
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


@dataclass(frozen=True, eq=False)
class Blob:
    """A file's content at a commit; ``sha256`` is set when git holds it through LFS."""

    data: bytes
    sha256: str | None = None

    @property
    def lfs(self) -> bool:
        """Whether the file is stored through LFS."""
        return self.sha256 is not None

    @cached_property
    def pointer(self) -> bytes | None:
        """The LFS pointer file that git holds for it (``None``: a plain file)."""
        return None if self.sha256 is None else lfs_pointer(self.sha256, len(self.data))

    @cached_property
    def oid(self) -> str:
        """Git's object id: of the pointer for an LFS file, else of the content."""
        return blob_id(self.data if self.pointer is None else self.pointer)


@dataclass(frozen=True)
class LfsReference:
    """A commit's ``lfsFile`` entry: the sha256 of an object uploaded before it."""

    sha256: str
    size: int | None = None


_Files = dict[str, Blob]


def _pattern(pattern: str) -> re.Pattern[str]:
    """A ``.gitattributes`` pattern as a regular expression over the path (or, for a
    pattern without ``/``, over the file's name): ``*`` and ``?`` stay inside one
    folder, ``**/`` spans any number of them."""
    out: list[str] = []
    position = 0
    while position < len(pattern):
        if pattern.startswith("**/", position):
            out.append("(?:.*/)?")
            position += 3
            continue
        char = pattern[position]
        if pattern.startswith("**", position):
            out.append(".*")
            position += 1
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[position + 2 :]:
            end = pattern.index("]", position + 2)
            inside = pattern[position + 1 : end]
            out.append("[" + ("^" + inside[1:] if inside[:1] in ("!", "^") else inside) + "]")
            position = end
        else:
            out.append(re.escape(char))
        position += 1
    return re.compile("".join(out) + r"\Z")


def _lfs_by_attributes(attributes: bytes, path: str) -> bool:
    """Whether ``.gitattributes`` gives ``path`` the ``lfs`` filter (the last line
    that matches and sets a filter decides, as in git)."""
    decided = False
    for line in attributes.decode("utf-8", "replace").splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        pattern, settings = words[0], words[1:]
        filters = [s for s in settings if s.lstrip("-!").split("=")[0] == "filter"]
        if not filters:
            continue
        anchored = "/" in pattern.rstrip("/")
        subject = path if anchored else posixpath.basename(path)
        if _pattern(pattern.lstrip("/") if anchored else pattern).match(subject):
            decided = filters[-1] == "filter=lfs"
    return decided


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


class LfsObjectError(HubModelError):
    """An LFS object is missing, or its content does not match its sha256 or size."""


class FileTooLargeError(HubModelError):
    """A plain (not LFS) file at or above the size the Hub allows outside LFS."""


@dataclass
class Repository:
    """A repository: commits oldest first, each ``(oid, files)``, and its LFS
    objects by sha256."""

    kind: str
    repo_id: str
    history: list[tuple[str, _Files]] = field(default_factory=list)
    objects: dict[str, bytes] = field(default_factory=dict)

    @property
    def head(self) -> tuple[str, _Files]:
        """The newest commit: its id and files."""
        return self.history[-1]

    def at(self, revision: str) -> tuple[str, _Files]:
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
    """Every repository of the stand-in Hub, behind one lock.

    Args:
        lfs_threshold: Files of at least this many bytes go through LFS.
    """

    def __init__(self, lfs_threshold: int = LFS_THRESHOLD) -> None:
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repository] = {}
        self._commits = 0
        self.lfs_threshold = lfs_threshold

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

    def snapshot(self, kind: str, repo_id: str, revision: str) -> tuple[str, dict[str, Blob]]:
        """The commit id and files of ``repo_id`` at ``revision``.

        Raises:
            RepoNotFoundError: If the repository does not exist.
            RevisionNotFoundError: If the revision does not.
        """
        with self._lock:
            oid, files = self.repository(kind, repo_id).at(revision)
            return oid, dict(files)

    def create(self, kind: str, repo_id: str) -> None:
        """Create a repository (with :data:`DATASET_GITATTRIBUTES`).

        Raises:
            RepoExistsError: If it exists already.
        """
        with self._lock:
            if (kind, repo_id) in self._repos:
                raise RepoExistsError(f"You already created this {kind} repo")
            repo = Repository(kind, repo_id)
            self._append(repo, {".gitattributes": Blob(DATASET_GITATTRIBUTES)})
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

    def wants_lfs(self, kind: str, repo_id: str, path: str, size: int, sample: bytes) -> bool:
        """Whether the Hub stores ``path`` (``size`` bytes, starting with ``sample``)
        through LFS: big, binary, or named so by the head's ``.gitattributes``.

        Raises:
            RepoNotFoundError: If the repository does not exist.
        """
        if size >= self.lfs_threshold or b"\0" in sample[:SAMPLE_BYTES]:
            return True
        with self._lock:
            attributes = self.repository(kind, repo_id).head[1].get(".gitattributes")
        return attributes is not None and _lfs_by_attributes(attributes.data, path)

    def lfs_object(self, kind: str, repo_id: str, sha256: str) -> bytes | None:
        """The LFS object ``sha256`` of ``repo_id`` (``None``: not uploaded).

        Raises:
            RepoNotFoundError: If the repository does not exist.
        """
        with self._lock:
            return self.repository(kind, repo_id).objects.get(sha256)

    def store_lfs_object(
        self, kind: str, repo_id: str, sha256: str, data: bytes, size: int | None = None
    ) -> None:
        """Keep ``data`` as the LFS object ``sha256`` of ``repo_id``.

        Raises:
            RepoNotFoundError: If the repository does not exist.
            LfsObjectError: If ``data`` does not hash to ``sha256`` or is not ``size`` bytes.
        """
        if size is not None and len(data) != size:
            raise LfsObjectError(f"Object {sha256} should be {size} bytes, got {len(data)}.")
        if hashlib.sha256(data).hexdigest() != sha256:
            raise LfsObjectError(f"Object content does not match its sha256 {sha256}.")
        with self._lock:
            self.repository(kind, repo_id).objects[sha256] = data

    def commit(
        self,
        kind: str,
        repo_id: str,
        adds: Mapping[str, bytes | LfsReference],
        deletes: list[tuple[str, bool]],
        parent: str | None = None,
    ) -> str:
        """Apply one commit on the head: ``deletes`` (``(path, is_folder)``) then
        ``adds`` (plain content, or a reference to an uploaded LFS object); return
        the new commit's id.

        Raises:
            RepoNotFoundError: If the repository does not exist.
            StaleParentError: If ``parent`` is given and is not the head.
            EntryNotFoundError: If a deleted path does not exist.
            LfsObjectError: If a referenced LFS object was not uploaded (or has another size).
            FileTooLargeError: If a plain file is too large to be kept outside LFS.
        """
        with self._lock:
            repo = self.repository(kind, repo_id)
            head, files = repo.head
            if parent is not None and parent != head:
                raise StaleParentError("A commit has happened since. Please refresh and try again.")
            blobs = {path: self._blob(repo, path, added) for path, added in adds.items()}
            updated = dict(files)
            for path, is_folder in deletes:
                doomed = [
                    n for n in updated if n == path or (is_folder and n.startswith(f"{path}/"))
                ]
                if not doomed:
                    raise EntryNotFoundError("A file with this name doesn't exist")
                for name in doomed:
                    del updated[name]
            updated.update(blobs)
            return self._append(repo, updated)

    def _blob(self, repo: Repository, path: str, added: bytes | LfsReference) -> Blob:
        if isinstance(added, LfsReference):
            data = repo.objects.get(added.sha256)
            if data is None or added.size not in (None, len(data)):
                raise LfsObjectError(f"LFS object {added.sha256} of {path} was not uploaded.")
            return Blob(data, added.sha256)
        if len(added) >= self.lfs_threshold:
            raise FileTooLargeError(
                "Your push was rejected because it contains files larger than"
                f" {self.lfs_threshold} bytes. Please use LFS to store large files."
                f" Offending files: {path}"
            )
        return Blob(added)

    def commits(self, kind: str, repo_id: str) -> int:
        """How many commits ``repo_id`` has (its creation included; 0 if missing)."""
        with self._lock:
            repo = self._repos.get((kind, repo_id))
            return len(repo.history) if repo else 0

    def _append(self, repo: Repository, files: _Files) -> str:
        self._commits += 1
        parent = repo.history[-1][0] if repo.history else ""
        oid = hashlib.sha1(
            f"{repo.repo_id}:{parent}:{self._commits}".encode(), usedforsecurity=False
        ).hexdigest()
        repo.history.append((oid, files))
        return oid
