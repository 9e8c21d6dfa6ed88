"""Dataset folders on a local file system: listing, reading and writing them whole.

The local store and the ``file://`` driver share these. Every path is opened one
segment at a time from a folder descriptor with ``O_NOFOLLOW``: no symbolic link
is ever followed, and a link, a FIFO, a socket or a device inside a dataset is
reported as an entry never copied (a FIFO is never opened, so it cannot block).

A dataset is written whole or not at all: its files go into a hidden staging
folder beside it (``.NAME-vN.minari-partial-XXXX``, which neither our listing
nor Minari's shows), are checked, fsynced, and the folder is renamed into place
in one step. Replacing a dataset renames the old one aside first (to
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
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import BinaryIO, Final

from minari_namespaces.atomic import DIR_FLAGS, LINK_ERRNOS, open_unfollowed
from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetWrite,
    unsafe_error,
)
from minari_namespaces.errors import NamespaceConflictError

__all__ = [
    "list_folder",
    "list_open",
    "open_in_folder",
    "remove_leftovers",
    "remove_tree",
    "write_folder",
]

_FILE_READ_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FILE_WRITE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_STAGE_MARK: Final = ".minari-"
#: A staging or old folder: ``.NAME-vN.minari-partial-XXXX`` or ``...minari-old-XXXX``.
_LEFTOVER: Final = re.compile(r"\.(?P<name>.+)\.minari-(?:partial|old)-[0-9a-f]{12}")


def file_token(info: os.stat_result) -> str:
    """The version token of a local file: any change of content changes it."""
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def _open_folder(fd: int, name: str) -> int | None:
    """The folder ``name`` in ``fd``, opened without following a link; ``None`` if it
    is missing, a file or a link."""
    return open_unfollowed(name, DIR_FLAGS, fd)


def list_folder(parent_fd: int, name: str) -> tuple[list[DatasetFile], list[str]] | None:
    """The regular files of the dataset folder ``name`` in ``parent_fd`` (sorted by
    relative path) and its entries never copied (links, FIFOs, sockets, devices,
    folders it may not read);
    ``None`` if there is no such folder."""
    fd = _open_folder(parent_fd, name)
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
    files.sort()
    return files, sorted(unsafe)


def _walk(fd: int, prefix: str, files: list[DatasetFile], unsafe: list[str]) -> None:
    with os.scandir(fd) as entries:
        listed = list(entries)
    for entry in listed:
        path = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            try:
                child = _open_folder(fd, entry.name)
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


def _reach(fd: int, folders: Sequence[str], *, make: bool) -> int:
    """A new descriptor of ``folders`` below ``fd``, each opened without following a
    link (made where missing, with ``make``).

    Raises:
        FileNotFoundError: If one is missing (and not made).
        OSError: With an errno of ``LINK_ERRNOS`` if one is a file or a link.
    """
    current = os.dup(fd)
    try:
        for name in folders:
            try:
                child = os.open(name, DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                if not make:
                    raise
                with suppress(FileExistsError):
                    os.mkdir(name, dir_fd=current)
                child = os.open(name, DIR_FLAGS, dir_fd=current)
            os.close(current)
            current = child
    except BaseException:
        os.close(current)
        raise
    return current


def open_in_folder(folder_fd: int, path: str, where: str) -> BinaryIO:
    """Open the regular file at the relative ``path`` below ``folder_fd`` for reading.

    Raises:
        FileNotFoundError: If it is missing.
        UnsafeDatasetFileError: If it (or a folder on the way) is a link, or it is
            not a regular file.
    """
    *folders, name = path.split("/")
    try:
        parent = _reach(folder_fd, folders, make=False)
        try:
            fd = os.open(name, _FILE_READ_FLAGS, dir_fd=parent)
        finally:
            os.close(parent)
    except OSError as error:
        if error.errno not in LINK_ERRNOS:
            raise
        raise unsafe_error([path], where) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise unsafe_error([path], where)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def remove_tree(parent_fd: int, name: str) -> None:
    """Remove the folder ``name`` in ``parent_fd`` and all it holds, never following
    a link (a link is removed, not its target); what vanishes meanwhile is fine."""
    fd = _open_folder(parent_fd, name)
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
        fd = _open_folder(parent_fd, leftover)
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


def write_folder(parent_fd: int, name: str, write: DatasetWrite, where: str) -> list[CopiedFile]:
    """Write the dataset folder ``name`` in ``parent_fd`` with ``write.files``: staged
    in a hidden folder, checked, then renamed into place (see the module's text).

    Raises:
        CopyVerificationError: If a copy differs from its source (nothing is kept).
        NamespaceConflictError: If ``name`` exists and ``replace`` is false.
    """
    remove_leftovers(parent_fd, name)
    stage, token, stage_fd = _locked_stage(parent_fd, name)
    try:
        try:
            copied: list[CopiedFile] = write.run(
                [_copier(stage_fd, file, write, f"{where}/{file.path}") for file in write.files]
            )
            os.fsync(stage_fd)
            _place(parent_fd, stage, name, replace=write.replace, where=where, token=token)
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


def _copier(
    stage_fd: int, file: DatasetFile, write: DatasetWrite, where: str
) -> Callable[[], CopiedFile]:
    def copy() -> CopiedFile:
        *folders, base = file.path.split("/")
        parent = _reach(stage_fd, folders, make=True)
        try:
            out = os.open(base, _FILE_WRITE_FLAGS, 0o644, dir_fd=parent)
        finally:
            os.close(parent)
        try:
            write.copy_to_fd(file, out, where)
            os.fsync(out)
            info = os.fstat(out)
        finally:
            os.close(out)
        return CopiedFile(DatasetFile(file.path, info.st_size, file_token(info)))

    return copy


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
    os.fsync(parent_fd)
    if moved:
        remove_tree(parent_fd, old)
