"""Dataset folders on a local file system: listing, reading and writing them whole.

The local store and the ``file://`` driver share these. Every path is opened one
segment at a time from a folder descriptor with ``O_NOFOLLOW``: no symbolic link
is ever followed, and a link, a FIFO, a socket or a device inside a dataset is
reported as an entry never copied (a FIFO is never opened, so it cannot block).

A dataset is written whole or not at all: its files go into a hidden staging
folder beside it (``.NAME-vN.minari-partial-XXXX``, which neither our listing
nor Minari's shows), are checked (and fsynced, for a durable store), and the
folder is renamed into place in one step. Replacing a dataset renames the old one aside first (to
``.NAME-vN.minari-old-XXXX``) and removes it after. A staging folder is locked
(``flock``) while it is written; the next transfer into its namespace folder
removes every unlocked leftover there (:func:`remove_leftovers`), so a process
killed at any moment leaves nothing that is ever listed, and nothing that outlives
the next run.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import BinaryIO, Final

from minari_namespaces.atomic import DIR_FLAGS, LINK_ERRNOS, open_unfollowed
from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetWrite,
    RegularFile,
    unsafe_error,
)
from minari_namespaces.errors import NamespaceConflictError

__all__ = [
    "FolderTree",
    "list_folder",
    "list_open",
    "open_in_folder",
    "read_file",
    "remove_leftovers",
    "remove_tree",
    "write_folder",
]

_FILE_READ_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FILE_WRITE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_STAGE_MARK: Final = ".minari-"
#: A staging or old folder: ``.NAME-vN.minari-partial-XXXX`` or ``...minari-old-XXXX``.
_LEFTOVER: Final = re.compile(r"\.(?P<name>.+)\.minari-(?:partial|old)-[0-9a-f]{12}")
#: One copy task takes consecutive files up to this many bytes (or
#: :data:`_BATCH_FILES` files): a small file costs no hand-off between threads of
#: its own, while big files still copy side by side.
_BATCH_BYTES: Final = 8 * 1024 * 1024
_BATCH_FILES: Final = 64
#: The folder descriptors a :class:`FolderTree` keeps open (more only while more
#: are in use at once, one per copying thread at most): a dataset's files are
#: visited in path order, so a few keep the folders at hand.
_OPEN_FOLDERS: Final = 16


def file_token(info: os.stat_result) -> str:
    """The version token of a local file: any change of content changes it."""
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def list_folder(parent_fd: int, name: str) -> tuple[list[DatasetFile], list[str]] | None:
    """The regular files of the dataset folder ``name`` in ``parent_fd`` (sorted by
    relative path) and its entries never copied (links, FIFOs, sockets, devices,
    folders it may not read);
    ``None`` if there is no such folder."""
    fd = open_unfollowed(name, DIR_FLAGS, parent_fd)
    if fd is None:
        return None
    try:
        return list_open(fd)
    finally:
        os.close(fd)


def list_open(fd: int) -> tuple[list[DatasetFile], list[str]]:
    """:func:`list_folder` of the open folder ``fd``."""
    files: list[DatasetFile] = []
    unsafe: list[str] = []
    _walk(fd, "", files, unsafe)
    files.sort(key=_path_of)  # paths are unique: the same order, without comparing fields
    return files, sorted(unsafe)


def _path_of(file: DatasetFile) -> str:
    return file.path


def _walk(fd: int, prefix: str, files: list[DatasetFile], unsafe: list[str]) -> None:
    with os.scandir(fd) as entries:
        listed = list(entries)
    for entry in listed:
        path = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            try:
                child = open_unfollowed(entry.name, DIR_FLAGS, fd)
            except PermissionError:
                child = None  # unreadable: listed as never copied, like a link
            if child is None:
                unsafe.append(path)
                continue
            try:
                _walk(child, f"{path}/", files, unsafe)
            finally:
                os.close(child)
        elif entry.is_file(follow_symlinks=False):
            info = entry.stat(follow_symlinks=False)
            files.append(DatasetFile(path, info.st_size, file_token(info)))
        else:
            unsafe.append(path)


class FolderTree:
    """The folders below one open folder, each opened without following a link (made
    first, with ``make``: for a fresh staging folder). The descriptors of the
    :data:`_OPEN_FOLDERS` folders used last stay open, so a file deep in a dataset
    costs one ``open``, not one per segment of its path, while a dataset of thousands
    of folders (Minari's Arrow layout has one per episode) holds a few descriptors,
    not one per folder. Files are visited in path order, so a folder is seldom opened
    twice.
    Safe to share between threads. The top descriptor stays the caller's.

    Raises:
        FileNotFoundError: From :meth:`open`, if a folder is missing (and not made).
        OSError: From :meth:`open`, with an errno of ``LINK_ERRNOS``, if a folder is
            a file or a link.
    """

    def __init__(self, fd: int, *, make: bool) -> None:
        self._top = fd
        self._make = make
        # Least recently used first: what is closed when too many are open.
        self._open: OrderedDict[str, _HeldFolder] = OrderedDict()
        self._lock = threading.Lock()
        self._made: list[str] = []

    def __enter__(self) -> FolderTree:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            for held in self._open.values():
                os.close(held.fd)
            self._open.clear()

    def open(self, path: str, flags: int, mode: int = 0o777) -> int:
        """``os.open`` of the entry at the relative ``path``, from its folder's
        descriptor (a folder closed meanwhile is opened again)."""
        folder, _, name = path.rpartition("/")
        if not folder:
            return os.open(name, flags, mode, dir_fd=self._top)
        with self._lock:
            held = self._hold(folder)
        try:
            return os.open(name, flags, mode, dir_fd=held.fd)
        finally:
            with self._lock:
                held.users -= 1
                if len(self._open) > _OPEN_FOLDERS:
                    self._trim()

    def sync_made(self) -> None:
        """fsync every folder this tree made, so the entries of the files in it
        survive a power loss (as its files' bytes do once they are fsynced)."""
        for path in self._made:
            fd = self.open(path, DIR_FLAGS)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _hold(self, path: str) -> _HeldFolder:
        """The open folder at ``path``, marked as used (the caller holds the lock)."""
        held = self._open.get(path)
        if held is None:
            above, _, name = path.rpartition("/")
            parent = self._hold(above) if above else None
            try:
                parent_fd = self._top if parent is None else parent.fd
                if self._make:
                    # Made trees are fresh staging folders: making comes first, so a
                    # folder costs no failed ``open``; one already there is opened,
                    # never followed.
                    with suppress(FileExistsError):
                        os.mkdir(name, dir_fd=parent_fd)
                        self._made.append(path)
                held = self._open[path] = _HeldFolder(os.open(name, DIR_FLAGS, dir_fd=parent_fd))
            finally:
                if parent is not None:
                    parent.users -= 1
        self._open.move_to_end(path)
        held.users += 1
        if len(self._open) > _OPEN_FOLDERS:
            self._trim()
        return held

    def _trim(self) -> None:
        """Close the folders used longest ago beyond :data:`_OPEN_FOLDERS`; one in use
        stays open (there are never more in use than threads)."""
        while len(self._open) > _OPEN_FOLDERS:
            unused = next((path for path, held in self._open.items() if not held.users), None)
            if unused is None:
                return
            os.close(self._open.pop(unused).fd)


@dataclass(slots=True)
class _HeldFolder:
    """One open folder of a :class:`FolderTree` and how many callers use it now."""

    fd: int
    users: int = 0


def open_in_folder(folder_fd: int, path: str, where: str) -> BinaryIO:
    """Open the regular file at the relative ``path`` below ``folder_fd`` for reading.

    Raises:
        FileNotFoundError: If it is missing.
        UnsafeDatasetFileError: If it (or a folder on the way) is a link, or it is
            not a regular file.
    """
    with FolderTree(folder_fd, make=False) as tree:
        return read_file(tree, path, where)


def read_file(tree: FolderTree, path: str, where: str) -> BinaryIO:
    """Open the regular file at the relative ``path`` in ``tree`` for reading.

    Raises:
        FileNotFoundError: If it is missing.
        UnsafeDatasetFileError: If it (or a folder on the way) is a link, or it is
            not a regular file.
    """
    try:
        fd = tree.open(path, _FILE_READ_FLAGS)
    except OSError as error:
        if error.errno not in LINK_ERRNOS:
            raise
        raise unsafe_error([path], where) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise unsafe_error([path], where)
    # Unbuffered: every reader takes chunks of a megabyte or hands the descriptor to
    # the kernel, and a buffer's set-up costs two system calls more per file.
    # O_NONBLOCK, which kept a FIFO from blocking the open, means nothing to a
    # regular file, so it stays set.
    return RegularFile(fd, "rb")


def remove_tree(parent_fd: int, name: str) -> None:
    """Remove the folder ``name`` in ``parent_fd`` and all it holds, never following
    a link (a link is removed, not its target); what vanishes meanwhile is fine."""
    fd = open_unfollowed(name, DIR_FLAGS, parent_fd)
    if fd is None:
        with suppress(FileNotFoundError):
            os.unlink(name, dir_fd=parent_fd)
        return
    try:
        with os.scandir(fd) as entries:
            listed = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        for child, is_folder in listed:
            if is_folder:
                remove_tree(fd, child)
            else:
                with suppress(FileNotFoundError):
                    os.unlink(child, dir_fd=fd)
    finally:
        os.close(fd)
    with suppress(FileNotFoundError):
        os.rmdir(name, dir_fd=parent_fd)


def remove_leftovers(parent_fd: int, name: str | None = None) -> None:
    """Remove the staging and old folders in ``parent_fd`` (of dataset ``name``
    only, if given) that no live writer holds: an interrupted transfer's."""
    with os.scandir(parent_fd) as entries:
        leftovers = [
            entry.name
            for entry in entries
            if (found := _LEFTOVER.fullmatch(entry.name)) and name in (None, found["name"])
        ]
    for leftover in leftovers:
        fd = open_unfollowed(leftover, DIR_FLAGS, parent_fd)
        if fd is None:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a writer is still at work
        try:
            remove_tree(parent_fd, leftover)
        finally:
            os.close(fd)


def write_folder(
    parent_fd: int, name: str, write: DatasetWrite, where: str, *, durable: bool
) -> list[CopiedFile]:
    """Write the dataset folder ``name`` in ``parent_fd`` with ``write.files``: staged
    in a hidden folder, checked, then renamed into place (see the module's text).
    With ``durable``, every file, every folder in the staging folder and the
    staging folder itself are fsynced before the rename, and the folder holding it
    after: a power loss cannot publish missing bytes. Without it, nothing is
    fsynced: a killed process still leaves the dataset whole or absent, as the
    rename alone makes it.

    Raises:
        CopyVerificationError: If a copy differs from its source (nothing is kept).
        NamespaceConflictError: If ``name`` exists and ``replace`` is false.
    """
    remove_leftovers(parent_fd, name)
    stage, token, stage_fd = _locked_stage(parent_fd, name)
    try:
        try:
            with FolderTree(stage_fd, make=True) as tree:
                # One task per file where each open waits on the network: ``jobs``
                # of them then read at once.
                batches = _batches(write.files) if write.reads_ahead else [[f] for f in write.files]
                tasks = [_copier(tree, batch, write, where, durable=durable) for batch in batches]
                copied = [each for batch in write.run(tasks) for each in batch]
                if durable:
                    tree.sync_made()
            if durable:
                os.fsync(stage_fd)
            _place(parent_fd, stage, name, replace=write.replace, where=where, token=token)
            if durable:
                os.fsync(parent_fd)
        except BaseException:
            remove_tree(parent_fd, stage)
            raise
    finally:
        os.close(stage_fd)
    return copied


def _locked_stage(parent_fd: int, name: str) -> tuple[str, str, int]:
    """A new staging folder for dataset ``name`` in ``parent_fd``, locked: its name,
    its token and an open descriptor of it."""
    while True:
        token = secrets.token_hex(6)
        stage = f".{name}{_STAGE_MARK}partial-{token}"
        os.mkdir(stage, dir_fd=parent_fd)
        # Another transfer's sweep may take the folder for a leftover between its
        # creation and the lock: then it is gone, and a new one is made.
        try:
            stage_fd = os.open(stage, DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            continue
        fcntl.flock(stage_fd, fcntl.LOCK_EX)
        with suppress(FileNotFoundError):
            held = os.stat(stage, dir_fd=parent_fd, follow_symlinks=False)
            if os.path.samestat(held, os.fstat(stage_fd)):
                return stage, token, stage_fd
        os.close(stage_fd)


def _batches(files: Sequence[DatasetFile]) -> Iterator[list[DatasetFile]]:
    """``files`` in runs of consecutive ones, each one copy task (see
    :data:`_BATCH_BYTES`)."""
    batch: list[DatasetFile] = []
    size = 0
    for file in files:
        if batch and (size + file.size > _BATCH_BYTES or len(batch) == _BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += max(file.size, 0)
    if batch:
        yield batch


def _copier(
    tree: FolderTree, batch: list[DatasetFile], write: DatasetWrite, where: str, *, durable: bool
) -> Callable[[], list[CopiedFile]]:
    def copy() -> list[CopiedFile]:
        return [
            _copy_one(tree, file, write, f"{where}/{file.path}", durable=durable) for file in batch
        ]

    return copy


def _copy_one(
    tree: FolderTree, file: DatasetFile, write: DatasetWrite, where: str, *, durable: bool
) -> CopiedFile:
    out = tree.open(file.path, _FILE_WRITE_FLAGS, 0o644)
    try:
        write.copy_to_fd(file, out, where)
        if durable:
            os.fsync(out)
        info = os.fstat(out)
    finally:
        os.close(out)
    return CopiedFile(DatasetFile(file.path, info.st_size, file_token(info)))


def _place(parent_fd: int, stage: str, name: str, *, replace: bool, where: str, token: str) -> None:
    """Rename ``stage`` to ``name`` (the old ``name`` aside first, with ``replace``)."""
    old = f".{name}{_STAGE_MARK}old-{token}"
    moved = False
    if replace:
        try:
            os.rename(name, old, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
            moved = True
        except FileNotFoundError:
            pass
    try:
        os.rename(stage, name, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise
        raise NamespaceConflictError(
            f"Dataset folder {where} appeared while it was being copied; it was kept. "
            "Run the transfer again to compare it."
        ) from None
    if moved:
        remove_tree(parent_fd, old)
