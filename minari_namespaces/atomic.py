"""Atomic, durable file writes relative to an open folder descriptor (POSIX).

A write goes to a fresh temporary file in the same folder, is flushed and
fsynced, and is then put in place in one step: ``os.link`` for create-only (it
fails if the name exists, so of racing creators exactly one wins) or
``os.replace`` to overwrite. A reader sees the old bytes or the new ones, never
half a file; a failed write leaves the old content.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Final

__all__ = [
    "DIR_FLAGS",
    "LINK_ERRNOS",
    "STALE_TEMP_SECONDS",
    "create_exclusive",
    "folder_lock",
    "is_regular_file",
    "is_stale_temp_name",
    "is_temp_name",
    "lexists",
    "open_unfollowed",
    "read_capped",
    "remove_stale_temps",
    "replace_atomic",
]

#: Open a folder without following a symbolic link.
DIR_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted under a marker's name must not hang a read.
_READ_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW_FILE_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: What ``open`` with ``O_NOFOLLOW`` raises on a symbolic link or a non-folder.
LINK_ERRNOS: Final = frozenset({errno.ELOOP, errno.ENOTDIR, errno.EMLINK})
_NO_HARDLINK_ERRNOS: Final = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV})
_TEMP_SUFFIX: Final = ".tmp"
#: The smallest buffer of one read of a capped read.
_READ_STEP: Final = 64 * 1024
#: A temporary file modified more recently is never swept, whatever its process id
#: says: a write takes far less, and a writer in another PID namespace (a container
#: sharing the volume) looks dead to ``os.kill`` from here.
STALE_TEMP_SECONDS: Final = 600.0


def _temp_name(name: str) -> str:
    return f".{name}.{os.getpid()}.{secrets.token_hex(6)}{_TEMP_SUFFIX}"


def is_temp_name(name: str, target: str) -> bool:
    """Whether ``name`` is a temporary file left by a write of ``target``."""
    return name.startswith(f".{target}.") and name.endswith(_TEMP_SUFFIX)


def is_stale_temp_name(name: str, target: str) -> bool:
    """Whether ``name`` is a temporary file of ``target`` whose writer on this
    machine has died: one whose writer still runs may be about to be linked into
    place, and must be left alone."""
    if not is_temp_name(name, target):
        return False
    pid = name[len(target) + 2 :].split(".", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by someone else
    return False


def remove_stale_temps(dir_fd: int, target: str) -> None:
    """Remove the temporary files of ``target`` in folder ``dir_fd`` that
    :func:`is_stale_temp_name` calls stale and that nobody modified for
    :data:`STALE_TEMP_SECONDS`: a writer killed between writing its temporary file
    and putting it in place leaves one. Folders and links named so are left alone."""
    modified_before = time.time() - STALE_TEMP_SECONDS
    with os.scandir(dir_fd) as entries:
        stale = [
            entry.name
            for entry in entries
            if is_stale_temp_name(entry.name, target)
            and entry.is_file(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_mtime < modified_before
        ]
    for name in stale:
        with suppress(FileNotFoundError):
            os.unlink(name, dir_fd=dir_fd)


def lexists(name: str, dir_fd: int) -> bool:
    """Whether ``name`` exists in folder ``dir_fd`` (a link counts as itself)."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True


def is_regular_file(name: str, dir_fd: int) -> bool:
    """Whether ``name`` in folder ``dir_fd`` is a regular file (not a link)."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return stat.S_ISREG(info.st_mode)


def open_unfollowed(name: str, flags: int, dir_fd: int) -> int | None:
    """Open ``name`` in folder ``dir_fd`` with ``flags`` (which hold ``O_NOFOLLOW``);
    ``None`` if it is missing or a link (or, for a folder, a file).

    Raises:
        OSError: For any other failure, a refused permission included.
    """
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno in LINK_ERRNOS:
            return None
        raise


def read_capped(name: str, dir_fd: int, limit: int) -> bytes | None:
    """Read at most ``limit + 1`` bytes of the regular file ``name``.

    Returns ``None`` if it is missing, a link or not a regular file.
    """
    fd = open_unfollowed(name, _READ_FLAGS, dir_fd)
    if fd is None:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        # Buffers sized to the file (plus one byte, to see the end at once): a
        # buffer of the whole cap per read costs more than reading a small file.
        step = max(info.st_size + 1, _READ_STEP)
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, step))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_temp(dir_fd: int, name: str, payload: bytes, *, durable: bool = True) -> str:
    temp = _temp_name(name)
    fd = os.open(temp, _NEW_FILE_FLAGS, 0o666, dir_fd=dir_fd)
    try:
        _write_durably(fd, payload, durable=durable)
    except BaseException:
        os.close(fd)
        os.unlink(temp, dir_fd=dir_fd)
        raise
    os.close(fd)
    return temp


def replace_atomic(dir_fd: int, name: str, payload: bytes, *, durable: bool = True) -> None:
    """Overwrite (or create) ``name`` in folder ``dir_fd`` atomically and, with
    ``durable`` (the default), durably: without it nothing is fsynced, and a power
    loss may leave the old bytes, the new ones or none (a killed process cannot)."""
    temp = _write_temp(dir_fd, name, payload, durable=durable)
    try:
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        os.unlink(temp, dir_fd=dir_fd)
        raise
    if durable:
        os.fsync(dir_fd)


def create_exclusive(dir_fd: int, name: str, payload: bytes) -> None:
    """Create ``name`` in folder ``dir_fd`` with ``payload``, only if it is absent.

    Uses a hard link of a complete temporary file, so the name never holds a
    partial file; on file systems without hard links, falls back to ``O_EXCL``.

    Raises:
        FileExistsError: If ``name`` exists (as anything, links included).
    """
    temp = _write_temp(dir_fd, name, payload)
    try:
        os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except OSError as error:
        if isinstance(error, FileExistsError) or error.errno not in _NO_HARDLINK_ERRNOS:
            raise
        _create_with_o_excl(dir_fd, name, payload)
    finally:
        os.unlink(temp, dir_fd=dir_fd)
    os.fsync(dir_fd)


def _create_with_o_excl(dir_fd: int, name: str, payload: bytes) -> None:
    fd = os.open(name, _NEW_FILE_FLAGS, 0o666, dir_fd=dir_fd)
    try:
        _write_durably(fd, payload)
    finally:
        os.close(fd)


def _write_durably(fd: int, payload: bytes, *, durable: bool = True) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]
    if durable:
        os.fsync(fd)


@contextmanager
def folder_lock(dir_fd: int) -> Iterator[None]:
    """Hold an exclusive advisory lock (``flock``) on the folder ``dir_fd``.

    The folder's inode outlives every replacement of the files inside it, so
    the lock serialises read-modify-write cycles of those files across processes.
    """
    fcntl.flock(dir_fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(dir_fd, fcntl.LOCK_UN)
