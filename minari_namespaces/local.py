"""``LocalNamespaceRepository``: namespaces in Minari's local dataset folder.

The layout is Minari's, byte for byte: a namespace is a folder holding a regular
file ``namespace_metadata.json``; a folder holding ``data`` is a dataset.

Every path is walked one segment at a time from an open descriptor of the root
with ``O_NOFOLLOW``, so no symbolic link inside the root is ever followed, even if
one is swapped in while we work. Writes go to a temporary file that is flushed and
fsynced, then ``os.link`` (create-only: of racing creators exactly one wins) or
``os.replace`` (overwrite) puts it in place: a reader never sees half a file.
Changes of one namespace are serialised with an advisory ``flock`` on its folder,
so a read-modify-write never loses a concurrent update.

POSIX only (Linux, macOS): it relies on ``dir_fd`` and ``O_NOFOLLOW``.
"""

from __future__ import annotations

import builtins
import errno
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from minari_namespaces.atomic import (
    DIR_FLAGS,
    LINK_ERRNOS,
    create_exclusive,
    folder_lock,
    is_regular_file,
    is_temp_name,
    lexists,
    read_capped,
    replace_atomic,
)
from minari_namespaces.errors import (
    NamespaceConflictError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    warn_skipped,
)
from minari_namespaces.identifier import (
    MAX_DEPTH,
    NamespaceId,
    check_batch_twins,
    is_valid_segment,
    portable_key,
)
from minari_namespaces.metadata import (
    MAX_METADATA_BYTES,
    METADATA_FILENAME,
    MetadataChange,
    NamespaceMetadata,
    decode_metadata,
)

__all__ = ["DATASET_MARKER", "LocalNamespaceRepository", "OS_JUNK_FILES", "default_root"]

#: Threads that write one level of a ``create_many`` batch.
_WRITERS: Final = 8
#: The entry that makes a folder a Minari dataset.
DATASET_MARKER: Final = "data"
#: Files the operating system leaves behind; they do not make a namespace non-empty.
OS_JUNK_FILES: Final = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def default_root() -> Path:
    """Minari's dataset folder: ``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets``."""
    configured = os.environ.get("MINARI_DATASETS_PATH")
    if configured:
        return Path(configured)
    return Path("~", ".minari", "datasets").expanduser()


class _NameIndex:
    """Entry names of folders, keyed by inode and checked against the folder's
    modification time, so finding a case-only (or NFC/NFD) twin costs one
    ``fstat`` instead of a listing of every sibling on every create.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[tuple[int, int], tuple[int, dict[str, set[str]]]] = {}

    def names(self, fd: int) -> dict[str, set[str]]:
        """Names in the folder ``fd``, grouped by their :func:`portable_key`."""
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino)
        with self._lock:
            cached = self._folders.get(key)
            if cached is not None and cached[0] == info.st_mtime_ns:
                return cached[1]
        folded: dict[str, set[str]] = {}
        with os.scandir(fd) as entries:
            for entry in entries:
                folded.setdefault(portable_key(entry.name), set()).add(entry.name)
        with self._lock:
            self._folders[key] = (info.st_mtime_ns, folded)
        return folded

    def added(self, fd: int, folded: dict[str, set[str]], name: str) -> None:
        """Record that we just created ``name`` in the folder ``fd``."""
        info = os.fstat(fd)
        with self._lock:
            folded.setdefault(portable_key(name), set()).add(name)
            self._folders[(info.st_dev, info.st_ino)] = (info.st_mtime_ns, folded)


_NAME_INDEX: Final = _NameIndex()


class LocalNamespaceRepository:
    """Namespaces in a local folder, in Minari's layout.

    Args:
        root: The dataset folder. ``None`` means ``$MINARI_DATASETS_PATH``, else
            ``~/.minari/datasets``. It is made absolute once, here; reading never
            creates it, the first write does.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        chosen = default_root() if root is None else Path(root).expanduser()
        self._root = Path(os.path.realpath(os.path.abspath(chosen)))

    @property
    def root(self) -> Path:
        """The absolute dataset folder."""
        return self._root

    @property
    def url(self) -> str:
        """The absolute path of the dataset folder."""
        return str(self._root)

    def __repr__(self) -> str:
        return f"LocalNamespaceRepository({str(self._root)!r})"

    # -- walking -----------------------------------------------------------

    def _path(self, ns: NamespaceId) -> str:
        return os.path.join(self._root, *ns.parts)

    def _open_root(self, *, create: bool) -> int | None:
        try:
            return os.open(self._root, DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                return None
        os.makedirs(self._root, exist_ok=True)
        return os.open(self._root, DIR_FLAGS)

    @contextmanager
    def _folder(self, ns: NamespaceId | None) -> Iterator[tuple[int, int] | None]:
        """Open the folder of ``ns`` (the root for ``None``) for reading.

        Yields ``(parent_fd, fd)``, or ``None`` when the folder is missing, is not
        a plain folder, or lies in or on a dataset.
        """
        fds: builtins.list[int] = []
        try:
            fd = self._open_root(create=False)
            if fd is None:
                yield None
                return
            fds.append(fd)
            for part in ns.parts if ns is not None else ():
                try:
                    fd = os.open(part, DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    yield None
                    return
                except OSError as error:
                    if error.errno in LINK_ERRNOS:
                        yield None
                        return
                    raise
                fds.append(fd)
                if lexists(DATASET_MARKER, fd):
                    yield None
                    return
            yield (fds[-2] if len(fds) > 1 else fds[-1], fds[-1])
        finally:
            for opened in reversed(fds):
                os.close(opened)

    @contextmanager
    def _folder_for_write(self, ns: NamespaceId) -> Iterator[tuple[int, int]]:
        """Open (making what is missing) the folder of ``ns`` for a create.

        Raises:
            NamespaceConflictError: If a dataset, a file, a link or a case-only
                twin holds a folder on the way.
        """
        fds = self._descend(ns, make=True)
        try:
            yield (fds[-2], fds[-1])
        finally:
            for opened in reversed(fds):
                os.close(opened)

    def _check_free(self, ns: NamespaceId) -> None:
        """Raise what a create of ``ns`` would raise for a conflict, writing nothing."""
        for opened in reversed(self._descend(ns, make=False)):
            os.close(opened)

    def _descend(self, ns: NamespaceId, *, make: bool) -> builtins.list[int]:
        """Open the folders from the root down to ``ns``, checking each level.

        With ``make``, missing folders are made and every level is returned;
        without, the walk stops (writing nothing) at the first missing folder.
        The caller closes the returned descriptors.
        """
        root_fd = self._open_root(create=make)
        if root_fd is None:
            return []
        fds = [root_fd]
        try:
            for depth, part in enumerate(ns.parts, start=1):
                here = NamespaceId._trusted("/".join(ns.parts[:depth]), ns.parts[:depth])
                folded = _NAME_INDEX.names(fds[-1])
                twins = folded.get(portable_key(part), set()) - {part}
                if twins:
                    raise NamespaceConflictError(
                        f"Cannot create namespace '{ns}': '{here}' has a twin {sorted(twins)} "
                        f"in {self._display(here.parent)} that differs only in letter case "
                        "or Unicode form, which would collide on macOS and Windows. "
                        "Rename one of them."
                    )
                try:
                    if make:
                        fds.append(self._open_or_make(fds[-1], part, folded))
                    else:
                        fds.append(os.open(part, DIR_FLAGS, dir_fd=fds[-1]))
                except FileNotFoundError:
                    if make:
                        raise
                    return fds
                except OSError as error:
                    if error.errno in LINK_ERRNOS:
                        raise NamespaceConflictError(
                            f"Cannot create namespace '{ns}': {self._display(here)} is a file "
                            "or a symbolic link, not a folder. Move it away first."
                        ) from error
                    raise
                if lexists(DATASET_MARKER, fds[-1]):
                    what = "is" if depth == ns.depth else "lies inside"
                    raise NamespaceConflictError(
                        f"Cannot create namespace '{ns}': it {what} the dataset folder "
                        f"{self._display(here)}. Namespaces cannot be created in or on datasets."
                    )
        except BaseException:
            for opened in reversed(fds):
                os.close(opened)
            raise
        return fds

    @staticmethod
    def _open_or_make(parent_fd: int, part: str, folded: dict[str, set[str]]) -> int:
        """Open the folder ``part``, making it first if it is missing.

        Opening first keeps the common case (the folder exists) to one system
        call: a failing ``mkdir`` costs far more than an ``open`` on ext4.
        """
        try:
            return os.open(part, DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            pass
        try:
            os.mkdir(part, dir_fd=parent_fd)
        except FileExistsError:
            pass
        else:
            _NAME_INDEX.added(parent_fd, folded, part)
        return os.open(part, DIR_FLAGS, dir_fd=parent_fd)

    def _display(self, ns: NamespaceId | None) -> str:
        return str(self._root) if ns is None else self._path(ns)

    # -- reading -----------------------------------------------------------

    def exists(self, ns: NamespaceId) -> bool:
        """Whether ``ns`` has a regular marker file (links are not followed)."""
        with self._folder(ns) as found:
            return found is not None and is_regular_file(METADATA_FILENAME, found[1])

    def get(self, ns: NamespaceId) -> NamespaceMetadata:
        """Read the metadata of ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the marker is not a JSON object of at most 1 MiB.
        """
        with self._folder(ns) as found:
            payload = None if found is None else self._read_marker(found[1])
        if payload is None:
            raise self._not_found(ns)
        return decode_metadata(payload, os.path.join(self._path(ns), METADATA_FILENAME))

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        """Read several namespaces; missing ones are left out.

        Raises:
            CorruptMetadataError: If a marker is corrupt.
        """
        result: dict[NamespaceId, NamespaceMetadata] = {}
        for ns in ids:
            try:
                result[ns] = self.get(ns)
            except NamespaceNotFoundError:
                continue
        return result

    @staticmethod
    def _read_marker(fd: int) -> bytes | None:
        return read_capped(METADATA_FILENAME, fd, MAX_METADATA_BYTES)

    def _not_found(self, ns: NamespaceId) -> NamespaceNotFoundError:
        return NamespaceNotFoundError(
            f"Namespace '{ns}' does not exist locally (no {METADATA_FILENAME} in "
            f"{self._path(ns)}). Create it first, or check the spelling."
        )

    def list(self, prefix: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        """Every namespace under ``prefix`` (included), in tree order.

        One ``os.scandir`` walk; dataset folders are not entered, links are not
        followed, and folders whose names are not valid ids are skipped with one
        :class:`SkippedEntryWarning`.
        """
        found: builtins.list[NamespaceId] = []
        skipped: builtins.list[str] = []
        with self._folder(prefix) as start:
            if start is None:
                return found
            base = () if prefix is None else prefix.parts
            self._visit(start[1], base, found, skipped)
        if skipped:
            warn_skipped(skipped, "folder(s)", " Rename them to list them as namespaces.")
        found.sort()
        return found

    def _visit(
        self,
        fd: int,
        parts: tuple[str, ...],
        found: builtins.list[NamespaceId],
        skipped: builtins.list[str],
    ) -> None:
        marker = False
        subfolders: builtins.list[str] = []
        with os.scandir(fd) as entries:
            for entry in entries:
                name = entry.name
                if name == DATASET_MARKER:
                    return
                if name == METADATA_FILENAME:
                    marker = entry.is_file(follow_symlinks=False)
                elif entry.is_dir(follow_symlinks=False):
                    subfolders.append(name)
        if marker and parts:
            text = "/".join(parts)
            if len(text) * 4 <= 512 or len(text.encode("utf-8")) <= 512:
                found.append(NamespaceId._trusted(text, parts))
            else:
                skipped.append(os.path.join(self._root, *parts))
                return
        if len(parts) >= MAX_DEPTH:
            return
        for name in subfolders:
            if name.startswith("."):
                continue  # hidden: tool bookkeeping such as .cache, never a namespace (as Minari)
            if not is_valid_segment(name):
                skipped.append(os.path.join(self._root, *parts, name))
                continue
            try:
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                if error.errno in LINK_ERRNOS or error.errno == errno.ENOENT:
                    continue
                raise
            try:
                self._visit(child, (*parts, name), found, skipped)
            finally:
                os.close(child)

    def children(self, ns: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        """The namespaces directly inside ``ns`` (top level for ``None``), sorted."""
        result: builtins.list[NamespaceId] = []
        with self._folder(ns) as found:
            if found is None:
                return result
            fd = found[1]
            with os.scandir(fd) as entries:
                names = [
                    entry.name
                    for entry in entries
                    if entry.is_dir(follow_symlinks=False) and is_valid_segment(entry.name)
                ]
            for name in names:
                child = ns.child(name) if ns is not None else NamespaceId._trusted(name, (name,))
                if child.depth > MAX_DEPTH:
                    continue
                if self._is_namespace_folder(fd, name):
                    result.append(child)
        result.sort()
        return result

    @staticmethod
    def _is_namespace_folder(parent_fd: int, name: str) -> bool:
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
        except OSError as error:
            if error.errno in LINK_ERRNOS or error.errno == errno.ENOENT:
                return False
            raise
        try:
            return not lexists(DATASET_MARKER, fd) and is_regular_file(METADATA_FILENAME, fd)
        finally:
            os.close(fd)

    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset folder (one holding ``data``) lies directly in ``ns``."""
        with self._folder(ns) as found:
            if found is None:
                return False
            fd = found[1]
            with os.scandir(fd) as entries:
                names = [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
            for name in names:
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                try:
                    if lexists(DATASET_MARKER, child):
                        return True
                finally:
                    os.close(child)
        return False

    # -- writing -----------------------------------------------------------

    def create(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Create ``ns`` with ``metadata``, atomically and create-only.

        Missing folders on the way are made; their markers are not (that is the
        service's job).

        Raises:
            NamespaceExistsError: If ``ns`` already exists.
            NamespaceConflictError: If a dataset, a file, a link or a case-only
                twin holds the path.
        """
        payload = metadata.to_json_bytes()
        with self._folder_for_write(ns) as (_, fd):
            try:
                create_exclusive(fd, METADATA_FILENAME, payload)
            except FileExistsError as error:
                if is_regular_file(METADATA_FILENAME, fd):
                    raise NamespaceExistsError(f"Namespace '{ns}' already exists.") from error
                raise NamespaceConflictError(
                    f"Cannot create namespace '{ns}': {self._path(ns)}/{METADATA_FILENAME} "
                    "exists but is not a regular file. Remove it first."
                ) from error

    def create_many(
        self, items: Iterable[tuple[NamespaceId, NamespaceMetadata]]
    ) -> builtins.list[NamespaceId]:
        """Create the namespaces one depth level at a time, parents first; return
        those that already existed.

        Within a level the writes run on a few threads: each still fsyncs, and
        the file system commits concurrent fsyncs together.

        Every conflict is checked before anything is written.

        Raises:
            NamespaceConflictError: If something else holds a path, or two ids of
                the batch are case-only twins.
        """
        batch = builtins.list(items)

        def create(item: tuple[NamespaceId, NamespaceMetadata]) -> bool:
            try:
                self.create(*item)
            except NamespaceExistsError:
                return True
            return False

        check_batch_twins([ns for ns, _ in batch])
        for ns, _ in batch:
            self._check_free(ns)
        existed: set[NamespaceId] = set()
        with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
            for depth in sorted({ns.depth for ns, _ in batch}):
                level = [item for item in batch if item[0].depth == depth]
                results = builtins.list(pool.map(create, level))
                existed |= {
                    ns for (ns, _), was_there in zip(level, results, strict=True) if was_there
                }
        return [ns for ns, _ in batch if ns in existed]

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Overwrite the metadata of ``ns`` atomically.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
        """
        payload = metadata.to_json_bytes()
        with self._locked(ns) as (_, fd):
            replace_atomic(fd, METADATA_FILENAME, payload)

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Read, change and write ``ns`` under its folder lock.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the marker is corrupt.
        """
        with self._locked(ns) as (_, fd):
            payload = self._read_marker(fd)
            if payload is None:
                raise self._not_found(ns)
            current = decode_metadata(payload, os.path.join(self._path(ns), METADATA_FILENAME))
            updated = change(current)
            replace_atomic(fd, METADATA_FILENAME, updated.to_json_bytes())
            return updated

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns`` (its marker and OS junk files only).

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            NamespaceNotEmptyError: If anything else is in its folder.
        """
        with self._locked(ns) as (parent_fd, fd):
            with os.scandir(fd) as entries:
                is_folder = {entry.name: entry.is_dir(follow_symlinks=False) for entry in entries}
            names = builtins.list(is_folder)
            removable = {METADATA_FILENAME} | OS_JUNK_FILES
            # A folder is never junk, even one named like a junk or temporary file.
            others = sorted(
                name
                for name in names
                if is_folder[name]
                or (name not in removable and not is_temp_name(name, METADATA_FILENAME))
            )
            if others:
                shown = ", ".join(others[:5]) + (
                    f" and {len(others) - 5} more" if len(others) > 5 else ""
                )
                raise NamespaceNotEmptyError(
                    f"Namespace '{ns}' is not empty: {self._path(ns)} still holds {shown}. "
                    "Delete its datasets and child namespaces first."
                )
            payload = self._read_marker(fd)
            for name in names:
                if name != METADATA_FILENAME:
                    os.unlink(name, dir_fd=fd)
            os.unlink(METADATA_FILENAME, dir_fd=fd)
            try:
                os.rmdir(ns.name, dir_fd=parent_fd)
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST) or payload is None:
                    raise
                # Something appeared in the folder meanwhile: put the marker back.
                replace_atomic(fd, METADATA_FILENAME, payload)
                raise NamespaceNotEmptyError(
                    f"Namespace '{ns}' is not empty: something was added to "
                    f"{self._path(ns)} while it was being deleted."
                ) from error
            os.fsync(parent_fd)

    @contextmanager
    def _locked(self, ns: NamespaceId) -> Iterator[tuple[int, int]]:
        with self._folder(ns) as found:
            if found is None:
                raise self._not_found(ns)
            with folder_lock(found[1]):
                if not is_regular_file(METADATA_FILENAME, found[1]):
                    raise self._not_found(ns)
                yield found
