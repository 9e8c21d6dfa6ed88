"""``LocalNamespaceRepository``: namespaces in Minari's local dataset folder.

The layout is Minari's, byte for byte: a namespace is a folder holding a regular
file ``namespace_metadata.json``; a folder holding ``data`` is a dataset.

Every path is walked one segment at a time from an open descriptor of the root
with ``O_NOFOLLOW`` (:class:`~minari_namespaces.stores.folders.FolderWalk`), so no
symbolic link inside the root is ever followed, even if one is swapped in while
we work. Writes go to a temporary file that is flushed and fsynced, then
``os.link`` (create-only: of racing creators exactly one wins) or ``os.replace``
(overwrite) puts it in place: a reader never sees half a file. Changes of one
namespace are serialised with an advisory ``flock`` on its folder, so a
read-modify-write never loses a concurrent update.

POSIX only (Linux, macOS): it relies on ``dir_fd`` and ``O_NOFOLLOW``.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Final

from minari_namespaces.atomic import (
    DIR_FLAGS,
    LINK_ERRNOS,
    create_exclusive,
    folder_lock,
    is_regular_file,
    is_stale_temp_name,
    lexists,
    read_capped,
    remove_stale_temps,
    replace_atomic,
)
from minari_namespaces.dataset_files import total_size
from minari_namespaces.datasets import DATASET_METADATA_FILENAME, DatasetId, UnreadableFile
from minari_namespaces.errors import (
    InvalidNamespaceError,
    NamespaceConflictError,
    NamespaceNotEmptyError,
    warn_skipped,
)
from minari_namespaces.identifier import (
    MAX_DEPTH,
    NamespaceId,
    id_from_checked_parts,
    is_valid_segment,
    portable_key,
)
from minari_namespaces.metadata import (
    MAX_METADATA_BYTES,
    METADATA_FILENAME,
    MetadataChange,
    NamespaceMetadata,
)
from minari_namespaces.stores import dataset_folders
from minari_namespaces.stores.base import DATASET_MARKER, OS_JUNK_FILES, NamespaceStoreBase, Scan
from minari_namespaces.stores.folders import FolderWalk
from minari_namespaces.stores.local_datasets import LocalDatasetFiles

__all__ = ["LocalNamespaceRepository", "default_root"]

#: Threads that write one level of a ``create_many`` batch.
_WRITERS: Final = 8
#: Walks of a create that a concurrent delete may undo before it gives up.
_CREATE_ATTEMPTS: Final = 5


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


class LocalNamespaceRepository(LocalDatasetFiles, NamespaceStoreBase):
    """Namespaces in a local folder, in Minari's layout.

    Args:
        root: The dataset folder. ``None`` means ``$MINARI_DATASETS_PATH``, else
            ``~/.minari/datasets``. It is made absolute once, here; reading never
            creates it, the first write does.
        durable: Flush each dataset a transfer copies here to disk before it
            appears, so that not even a power loss can publish it with missing
            bytes (twice the time of a copy that flushes nothing, as measured in
            the docs' decisions). A killed process leaves a dataset whole or absent
            either way; namespace writes are always flushed.
    """

    def __init__(
        self, root: str | os.PathLike[str] | None = None, *, durable: bool = False
    ) -> None:
        chosen = default_root() if root is None else Path(root).expanduser()
        self._root = Path(os.path.realpath(os.path.abspath(chosen)))
        self.durable = durable
        super().__init__(str(self._root))

    @property
    def root(self) -> Path:
        """The absolute dataset folder."""
        return self._root

    # -- walking -------------------------------------------------------------

    def _path(self, ns: NamespaceId) -> str:
        return os.path.join(self._root, *ns.parts)

    @contextmanager
    def _folder(self, ns: NamespaceId | None) -> Iterator[FolderWalk | None]:
        """Open the folder of ``ns`` (the root for ``None``) for reading.

        Yields the walk, or ``None`` when the folder is missing, is not a plain
        folder, or lies in or on a dataset (the dataset rule).
        """
        with FolderWalk(str(self._root)) as walk:
            if not walk.opened:
                yield None
                return
            for part in ns.parts if ns is not None else ():
                if not walk.reach((part,)) or lexists(DATASET_MARKER, walk.fd):
                    yield None
                    return
            yield walk

    @contextmanager
    def _descend(self, ns: NamespaceId, *, make: bool) -> Iterator[FolderWalk]:
        """Open the folders from the root down to ``ns``, checking each level.

        With ``make``, missing folders are made; without, the walk stops (writing
        nothing) at the first missing folder.

        Raises:
            NamespaceConflictError: If a dataset, a file, a link or a case-only
                twin holds a folder on the way.
        """
        with FolderWalk(str(self._root), make=make) as walk:
            if not walk.opened:
                yield walk
                return
            for depth, part in enumerate(ns.parts, start=1):
                self._refuse_twins(ns, depth, _NAME_INDEX.names(walk.fd))
                try:
                    entered = walk.enter(part)
                    if not entered and make:
                        entered = self._make_folder(walk, ns, depth)
                except OSError as error:
                    if error.errno in LINK_ERRNOS:
                        raise self.texts.not_a_folder(ns, ns.parts[:depth]) from error
                    raise
                if not entered:
                    break
                if lexists(DATASET_MARKER, walk.fd):
                    raise self.texts.dataset_conflict(ns, ns.parts[:depth])
            yield walk

    def _refuse_twins(self, ns: NamespaceId, depth: int, folded: dict[str, set[str]]) -> None:
        part = ns.parts[depth - 1]
        twins = sorted(folded.get(portable_key(part), set()) - {part})
        if twins:
            raise self.texts.twin_conflict(ns, (*ns.parts[: depth - 1], twins[0]))

    def _make_folder(self, walk: FolderWalk, ns: NamespaceId, depth: int) -> bool:
        """Make the folder of level ``depth`` of ``ns`` in ``walk.fd`` and enter it.

        The twin check and the ``mkdir`` are one critical section under the parent
        folder's lock, so two processes making ``door`` and ``Door`` at once cannot
        both succeed; the check reads the folder afresh, not from the index.
        """
        part = ns.parts[depth - 1]
        with folder_lock(walk.fd):
            fresh: dict[str, set[str]] = {}
            with os.scandir(walk.fd) as entries:
                for entry in entries:
                    fresh.setdefault(portable_key(entry.name), set()).add(entry.name)
            self._refuse_twins(ns, depth, fresh)
            with suppress(FileExistsError):
                os.mkdir(part, dir_fd=walk.fd)
        return walk.enter(part)

    # -- primitives ----------------------------------------------------------

    def _read_marker(self, ns: NamespaceId) -> bytes | None:
        with self._folder(ns) as walk:
            if walk is None:
                return None
            return read_capped(METADATA_FILENAME, walk.fd, MAX_METADATA_BYTES)

    def _check_batch(self, batch: Sequence[NamespaceId]) -> set[NamespaceId]:
        for ns in batch:
            with self._descend(ns, make=False):
                pass
        return set()

    def _create_level(self, items: Sequence[tuple[NamespaceId, bytes]]) -> list[bool]:
        create = super()._create_level
        if len(items) == 1:
            return create(items)
        # Each write still fsyncs; the file system commits concurrent fsyncs together.
        with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
            return list(pool.map(lambda item: create([item])[0], items))

    def _create_one(self, ns: NamespaceId, payload: bytes) -> None:
        for _ in range(_CREATE_ATTEMPTS):
            try:
                with self._descend(ns, make=True) as walk:
                    remove_stale_temps(walk.fd, METADATA_FILENAME)
                    try:
                        create_exclusive(walk.fd, METADATA_FILENAME, payload)
                    except FileExistsError:
                        if is_regular_file(METADATA_FILENAME, walk.fd):
                            raise
                        if not lexists(METADATA_FILENAME, walk.fd):
                            continue  # deleted between the two calls: try again
                        raise NamespaceConflictError(
                            f"Cannot create namespace '{ns}': {self.texts.marker(ns)} exists "
                            "but is not a regular file. Remove it first."
                        ) from None
                    return
            except FileNotFoundError:
                continue  # a concurrent delete removed a folder on the way: walk again
        raise NamespaceConflictError(
            f"Cannot create namespace '{ns}': its folder in {self.url} kept being deleted "
            "while it was being created. Try again."
        )

    # -- reading -------------------------------------------------------------

    def exists(self, ns: NamespaceId) -> bool:
        """Whether ``ns`` has a regular marker file (links are not followed)."""
        with self._folder(ns) as walk:
            return walk is not None and is_regular_file(METADATA_FILENAME, walk.fd)

    def _scan(self, prefix: NamespaceId | None, *, sizes: bool = False) -> Scan:
        """Namespaces and dataset folders under ``prefix``: one ``os.scandir`` walk
        (with ``sizes``, it also walks each dataset folder and adds up its files).

        Dataset folders are not searched for namespaces, links are not followed, and
        folders whose names are not valid ids are skipped with one
        :class:`~minari_namespaces.errors.SkippedEntryWarning`.
        """
        scan = Scan([], [], {})
        skipped: list[str] = []
        with self._folder(prefix) as walk:
            if walk is None:
                return scan
            start = () if prefix is None else prefix.parts
            self._visit(walk.fd, start, scan, skipped, sizes=sizes)
        if skipped:
            warn_skipped(skipped, "folder(s)", " Rename them to list them as namespaces.")
        scan.namespaces.sort()
        scan.datasets.sort()
        return scan

    def _visit(
        self, fd: int, parts: tuple[str, ...], scan: Scan, skipped: list[str], *, sizes: bool
    ) -> None:
        marker = dataset = False
        subfolders: list[str] = []
        with os.scandir(fd) as entries:
            for entry in entries:
                name = entry.name
                # ``data`` at the root is a stray entry, never a dataset: the root is
                # no dataset folder, and must not hide the tree (Minari lists it too).
                if name == DATASET_MARKER and parts:
                    dataset = True
                    break
                if name == METADATA_FILENAME:
                    marker = entry.is_file(follow_symlinks=False)
                elif entry.is_dir(follow_symlinks=False):
                    subfolders.append(name)
        if dataset:
            # Walked once the listing above is closed: it shares the descriptor.
            _found_dataset(fd, parts, scan, sizes=sizes)
            return
        if marker and parts:
            text = "/".join(parts)
            if len(text) * 4 <= 512 or len(text.encode("utf-8")) <= 512:
                scan.namespaces.append(id_from_checked_parts(text, parts))
            else:
                skipped.append(os.path.join(self._root, *parts))
                return
        for name in subfolders:
            if name.startswith("."):
                continue  # hidden: tool bookkeeping such as .cache, never a namespace (as Minari)
            child = self._open_folder(fd, name)
            if child is None:
                continue
            try:
                below = (*parts, name)
                if len(parts) >= MAX_DEPTH or not is_valid_segment(name):
                    # No id names it, and none below it: said, never walked (so a chain
                    # of folders of any depth costs one level more than an id may have).
                    # A dataset folder is the dataset listing's to report.
                    if lexists(DATASET_MARKER, child):
                        _found_dataset(child, below, scan, sizes=sizes)
                    elif len(parts) < MAX_DEPTH or _holds_more(child):
                        skipped.append(os.path.join(self._root, *below))
                    continue
                self._visit(child, below, scan, skipped, sizes=sizes)
            finally:
                os.close(child)

    @staticmethod
    def _open_folder(fd: int, name: str) -> int | None:
        """A descriptor of the folder ``name`` in ``fd``; ``None`` if it is gone or
        became a link or a file meanwhile."""
        try:
            return os.open(name, DIR_FLAGS, dir_fd=fd)
        except OSError as error:
            if error.errno in LINK_ERRNOS or error.errno == errno.ENOENT:
                return None
            raise

    def _read_dataset_files(
        self, ids: Sequence[DatasetId]
    ) -> dict[DatasetId, bytes | UnreadableFile | None]:
        """Each dataset's ``data/metadata.json``, reached without following a link;
        each namespace folder is opened once for all the datasets in it."""
        by_folder: dict[tuple[str, ...], list[DatasetId]] = {}
        for dataset in ids:
            by_folder.setdefault(dataset.parts[:-1], []).append(dataset)
        found: dict[DatasetId, bytes | UnreadableFile | None] = dict.fromkeys(ids)
        for parts, datasets in by_folder.items():
            with FolderWalk(str(self._root)) as walk:
                if not (walk.opened and walk.reach(parts)):
                    continue
                for dataset in datasets:
                    found[dataset] = _read_in(walk.fd, (dataset.folder, DATASET_MARKER))
        return found

    def children(self, ns: NamespaceId | None = None) -> list[NamespaceId]:
        """The namespaces directly inside ``ns`` (top level for ``None``), sorted.

        One listing of the folder and a check of each subfolder: a deep tree
        costs no more than a flat one.
        """
        result: list[NamespaceId] = []
        with self._folder(ns) as walk:
            if walk is None:
                return result
            with os.scandir(walk.fd) as entries:
                names = [
                    entry.name
                    for entry in entries
                    if entry.is_dir(follow_symlinks=False) and is_valid_segment(entry.name)
                ]
            skipped: list[str] = []
            for name in names:
                if not self._is_namespace_folder(walk.fd, name):
                    continue
                try:
                    child = ns.child(name) if ns is not None else NamespaceId(name)
                except InvalidNamespaceError:
                    skipped.append(os.path.join(self.texts.where(ns), name))
                    continue
                result.append(child)
        if skipped:
            warn_skipped(skipped, "folder(s)", " They are deeper or longer than an id may be.")
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
        with self._folder(ns) as walk:
            if walk is None:
                return False
            with os.scandir(walk.fd) as entries:
                names = [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
            for name in names:
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=walk.fd)
                except OSError:
                    continue
                try:
                    if lexists(DATASET_MARKER, child):
                        return True
                finally:
                    os.close(child)
        return False

    # -- writing -------------------------------------------------------------

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Overwrite the metadata of ``ns`` atomically (a corrupt marker too).

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
        """
        payload = metadata.to_json_bytes()
        with self._locked(ns) as walk:
            remove_stale_temps(walk.fd, METADATA_FILENAME)
            replace_atomic(walk.fd, METADATA_FILENAME, payload)

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Read, change and write ``ns`` under its folder lock.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the marker is corrupt.
        """
        with self._locked(ns) as walk:
            payload = read_capped(METADATA_FILENAME, walk.fd, MAX_METADATA_BYTES)
            if payload is None:
                raise self.texts.not_found(ns)
            updated = change(self.decode(ns, payload))
            remove_stale_temps(walk.fd, METADATA_FILENAME)
            replace_atomic(walk.fd, METADATA_FILENAME, updated.to_json_bytes())
            return updated

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns`` (its marker and OS junk files only).

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            NamespaceNotEmptyError: If anything else is in its folder.
        """
        with self._locked(ns) as walk:
            fd = walk.fd
            with os.scandir(fd) as entries:
                is_folder = {entry.name: entry.is_dir(follow_symlinks=False) for entry in entries}
            removable = {METADATA_FILENAME} | OS_JUNK_FILES
            # A folder is never junk, even one named like a junk or temporary file; a
            # temporary file whose writer still runs is a write about to land.
            others = sorted(
                name
                for name, folder in is_folder.items()
                if folder
                or (name not in removable and not is_stale_temp_name(name, METADATA_FILENAME))
            )
            if others:
                raise self.texts.not_empty(ns, others)
            payload = read_capped(METADATA_FILENAME, fd, MAX_METADATA_BYTES)
            for name in is_folder:
                if name != METADATA_FILENAME:
                    with suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=fd)
            os.unlink(METADATA_FILENAME, dir_fd=fd)
            try:
                os.rmdir(ns.name, dir_fd=walk.parent_fd)
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST) or payload is None:
                    raise
                # Something appeared in the folder meanwhile: put the marker back,
                # create-only, so a namespace that another process has created in
                # the meantime is never overwritten.
                with suppress(FileExistsError):
                    create_exclusive(fd, METADATA_FILENAME, payload)
                raise NamespaceNotEmptyError(
                    f"Namespace '{ns}' is not empty: something was added to "
                    f"{self.texts.where(ns)} while it was being deleted."
                ) from error
            os.fsync(walk.parent_fd)

    @contextmanager
    def _locked(self, ns: NamespaceId) -> Iterator[FolderWalk]:
        with self._folder(ns) as walk:
            if walk is None:
                raise self.texts.not_found(ns)
            with folder_lock(walk.fd):
                if not is_regular_file(METADATA_FILENAME, walk.fd):
                    raise self.texts.not_found(ns)
                yield walk


def _found_dataset(fd: int, parts: tuple[str, ...], scan: Scan, *, sizes: bool) -> None:
    """Note the dataset folder ``fd`` at ``parts`` in ``scan``, with ``sizes`` its
    files' total size (from a ``stat`` of each; none if it holds a link or a FIFO)."""
    scan.datasets.append(parts)
    size = total_size(*dataset_folders.list_open(fd)) if sizes else None
    if size is not None:
        scan.sizes[parts] = size


def _holds_more(fd: int) -> bool:
    """Whether the folder ``fd`` holds a marker or a folder that is not hidden: a
    namespace, or the way to one."""
    with os.scandir(fd) as entries:
        return any(
            entry.name == METADATA_FILENAME
            or (entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."))
            for entry in entries
        )


#: What a listing calls an entry that stands where a regular file belongs.
_KINDS: Final = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def _read_in(fd: int, folders: tuple[str, ...]) -> bytes | UnreadableFile | None:
    """The dataset metadata file in ``folders`` below the folder ``fd``, each opened
    without following a link; ``None`` if it is missing, and what stands in its way
    if it cannot be read (a link, a file where a folder belongs, no permission)."""
    opened: list[int] = []
    try:
        for name in folders:
            try:
                opened.append(os.open(name, DIR_FLAGS, dir_fd=opened[-1] if opened else fd))
            except FileNotFoundError:
                return None
            except OSError as error:
                if error.errno in LINK_ERRNOS:
                    return UnreadableFile(
                        f"cannot be read: {name} is a file or a link, not a folder"
                    )
                return UnreadableFile(f"cannot be read: {error.strerror}")
        return _read_regular(opened[-1], DATASET_METADATA_FILENAME)
    finally:
        for each in reversed(opened):
            os.close(each)


def _read_regular(fd: int, name: str) -> bytes | UnreadableFile | None:
    """The regular file ``name`` in the folder ``fd`` (capped); ``None`` if it is
    missing, and what it is if it is something else (a FIFO, a folder, a link)."""
    try:
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    for test, kind in _KINDS:
        if test(info.st_mode):
            return UnreadableFile(f"is {kind}, not a regular file")
    try:
        return read_capped(name, fd, MAX_METADATA_BYTES)
    except OSError as error:
        return UnreadableFile(f"cannot be read: {error.strerror}")
