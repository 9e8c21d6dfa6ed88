"""The files of a dataset, as stores list, read and write them for a transfer.

A :class:`DatasetFile` is one file of a dataset folder: its path relative to the
folder (``data/main_data.hdf5``), its size, the store's version token (an ETag,
a generation, a modification stamp) and the MD5 the store keeps of it, where it
keeps one. :func:`unsafe_reason` is the one rule for a relative path that could
land outside the folder; :func:`copy_verified` streams one file in chunks,
hashing it on the way only where a store keeps an MD5 to check it against, and
checks what it read against the listing.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, TypeVar

from minari_namespaces.errors import CopyVerificationError, UnsafeDatasetFileError, first_few

__all__ = [
    "CHUNK_BYTES",
    "CopiedFile",
    "DatasetFile",
    "DatasetReader",
    "DatasetWrite",
    "Digest",
    "FileSource",
    "RegularFile",
    "Runner",
    "check_copy",
    "check_hashes",
    "copy_verified",
    "folder_sizes",
    "in_folders",
    "pool_runner",
    "run_in_turn",
    "total_size",
    "unsafe_error",
    "unsafe_reason",
]

#: How much of a file is read and written at a time: memory stays flat in file size.
CHUNK_BYTES: Final = 1024 * 1024
#: What ``os.copy_file_range`` raises where the kernel or file system cannot copy.
_NO_KERNEL_COPY: Final = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF, errno.EPERM}
)


@dataclass(frozen=True, order=True)
class DatasetFile:
    """One file of a dataset folder, as a store's listing shows it.

    Attributes:
        path: The path below the dataset's folder, ``/``-separated
            (``data/main_data.hdf5``).
        size: Its size in bytes.
        version: The store's token for this content (changes whenever the file
            does); ``None`` where the store has none.
        md5: The MD5 hex digest the store keeps of the content, where it keeps
            one (S3 single-part ETags, GCS, Azure when set); else ``None``.
        sha256: The SHA-256 hex digest the store lists, where it lists one (the
            Hub's LFS files); else ``None``.
        blob_id: Git's object id of the content, where the store lists it (the
            Hub's files kept in git itself); else ``None``.
    """

    path: str
    size: int
    version: str | None = None
    md5: str | None = None
    sha256: str | None = None
    blob_id: str | None = None


@dataclass(frozen=True)
class Digest:
    """What streaming a file read: its size and, where asked for, its MD5.

    Attributes:
        size: The bytes read.
        md5: Their MD5 hex digest; ``None`` where it was not computed.
        sha256: Their SHA-256 hex digest; ``None`` where it was not computed.
        blob_id: Git's object id of them; ``None`` where it was not computed.
    """

    size: int
    md5: str | None
    sha256: str | None = None
    blob_id: str | None = None


@dataclass(frozen=True)
class CopiedFile:
    """A file a transfer wrote.

    Attributes:
        file: The file as the target store lists it after the write.
        sha256: The SHA-256 hex digest of its content where it was computed anyway;
            ``None`` otherwise (a copy hashes nothing it does not check).
    """

    file: DatasetFile
    sha256: str | None = None


class RegularFile(io.FileIO):
    """A local regular file, opened for reading at its start and unbuffered, as a
    store's opener hands it out once it has checked that it is one: a copy into a
    local file gives its descriptor to the kernel without asking again (an ``fstat``
    and a seek fewer per file)."""


#: Opens a source file of a dataset for reading, as a context manager.
FileSource = Callable[[DatasetFile], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True)
class DatasetReader:
    """A dataset a store opened for one transfer to read its files.

    Attributes:
        open: Opens one of its files for reading.
        reads_ahead: Whether opening a file waits on no network: the store reads
            the files ahead of the copies that ask for them, or they lie on local
            disk. Then one copy task may read many files in turn; otherwise each
            file is a task of its own, ``jobs`` of them reading at once.
    """

    open: FileSource
    reads_ahead: bool = False


T = TypeVar("T")
#: Runs tasks (concurrently, where it can) and returns their results in order; the
#: first failure is raised once every task has ended.
Runner = Callable[[list[Callable[[], Any]]], list[Any]]


def run_in_turn(tasks: list[Callable[[], T]]) -> list[T]:
    """A :data:`Runner` that runs ``tasks`` one after the other."""
    return [task() for task in tasks]


def pool_runner(pool: Executor) -> Runner:
    """A :data:`Runner` on ``pool``. If the pool refuses a task (shut down by Ctrl-C
    midway), the tasks it took are cancelled or waited for before the refusal is
    raised: none still runs once the caller cleans up after them.

    Raises:
        RuntimeError: From the runner, if ``pool`` is shut down.
    """

    def run(tasks: list[Callable[[], Any]]) -> list[Any]:
        futures: list[Future[Any]] = []
        try:
            for task in tasks:
                futures.append(pool.submit(task))
        except BaseException:
            for future in futures:
                future.cancel()
            wait(futures)
            raise
        wait(futures)
        return [future.result() for future in futures]

    return run


@dataclass(frozen=True)
class DatasetWrite:
    """One dataset for a store to write whole: its files and how to read them.

    Attributes:
        files: The files, as the source lists them.
        source: Opens a source file for reading.
        replace: Replace the dataset if the store holds it.
        run: Runs the file copies (concurrently, if it can).
        on_bytes: Called with the size of each chunk written.
        jobs: How many requests a store that writes small files as coroutines
            keeps in flight for this dataset.
        reads_ahead: Whether ``source`` opens a file without waiting on the
            network (see :attr:`DatasetReader.reads_ahead`): only then does one
            copy task read many files in turn.
    """

    files: Sequence[DatasetFile]
    source: FileSource
    replace: bool = False
    run: Runner = run_in_turn
    on_bytes: Callable[[int], None] | None = None
    jobs: int = 1
    reads_ahead: bool = False

    def copy(
        self,
        file: DatasetFile,
        write: Callable[[bytes], object],
        where: str,
        *,
        md5: bool = False,
        sha256: bool = False,
        blob: bool = False,
    ) -> Digest:
        """Stream ``file`` from the source into ``write``, checked (see
        :func:`copy_verified`); ``md5``, ``sha256``, ``blob`` ask for the hashes the
        target needs (to check, or to name the content).

        Raises:
            CopyVerificationError: If what was read differs from the listing.
        """
        with self.source(file) as reader:
            return copy_verified(
                reader, write, file, where, self.on_bytes, md5=md5, sha256=sha256, blob=blob
            )

    def copy_to_fd(self, file: DatasetFile, out_fd: int, where: str) -> Digest:
        """Stream ``file`` into the open local file ``out_fd``, checked: by the kernel
        (``os.copy_file_range``, no bytes through Python) when the source opens it as
        a :class:`RegularFile` and no hash is to be checked, else as :meth:`copy` does.

        Raises:
            CopyVerificationError: If what was read differs from the listing.
        """
        with self.source(file) as reader:
            listed = (file.md5, file.sha256, file.blob_id)
            if isinstance(reader, RegularFile) and listed == (None, None, None):
                size = _kernel_copy(reader.fileno(), out_fd, self.on_bytes)
                if size is not None:
                    check_copy(file, size, None, where)
                    return Digest(size, None)

            def write(chunk: bytes) -> None:
                try:
                    _write_all(out_fd, chunk)
                except OSError as error:
                    # A failed write (a full disk) names the file it was writing.
                    if error.errno is None or error.filename is not None:
                        raise
                    raise OSError(error.errno, error.strerror, where) from error

            return copy_verified(reader, write, file, where, self.on_bytes)


def _kernel_copy(in_fd: int, out_fd: int, on_bytes: Callable[[int], None] | None) -> int | None:
    """Copy ``in_fd`` to ``out_fd`` by ``os.copy_file_range`` in chunks; the size, or
    ``None`` if the kernel refused before a byte moved (the caller copies instead)."""
    size = 0
    while True:
        try:
            moved = os.copy_file_range(in_fd, out_fd, CHUNK_BYTES)
        except OSError as error:
            if size == 0 and error.errno in _NO_KERNEL_COPY:
                return None
            raise
        if moved == 0:
            return size
        size += moved
        if on_bytes is not None:
            on_bytes(moved)


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


def unsafe_reason(path: str) -> str | None:
    """Why the relative ``path`` could land outside its dataset folder, or ``None``.

    Refused: an absolute path, a backslash, an empty segment, ``.`` or ``..``,
    a NUL character.
    """
    if not path:
        return "the path is empty"
    if path.startswith("/"):
        return "the path is absolute"
    if "\\" in path:
        return "the path holds a backslash"
    if "\0" in path:
        return "the path holds a NUL character"
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return f"the path holds the segment {segment!r}"
    return None


def total_size(files: Iterable[DatasetFile], unsafe: Sequence[str]) -> int | None:
    """The total size in bytes of a dataset's ``files`` as a listing shows them;
    ``None`` where it also holds ``unsafe`` entries (links, FIFOs, devices, keys
    outside its folder): they are never copied, so no size counts them."""
    return None if unsafe else sum(file.size for file in files)


def in_folders(
    keys: Iterable[tuple[str, ...]], folders: Collection[tuple[str, ...]]
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...], str]]:
    """Each of ``keys`` (path segments from a store's root) that lies below one of
    ``folders`` (dataset folders, none inside another), with that folder and the
    key's path below it, ``/``-separated; keys outside every folder are left out."""
    depths = sorted({len(folder) for folder in folders})
    for key in keys:
        for depth in depths:
            if len(key) > depth and key[:depth] in folders:
                yield key, key[:depth], "/".join(key[depth:])
                break


def folder_sizes(
    folders: Iterable[tuple[str, ...]], objects: Mapping[tuple[str, ...], int]
) -> dict[tuple[str, ...], int]:
    """The total size of the objects under each of ``folders`` (dataset folders as
    path segments from a store's root, none inside another), from one listing of
    ``objects`` (path segments to size). A folder that holds a key :func:`unsafe_reason`
    refuses is left out, as :func:`total_size` leaves it out."""
    totals = dict.fromkeys(folders, 0)
    spoiled: set[tuple[str, ...]] = set()
    for key, folder, inner in in_folders(objects, totals.keys()):
        totals[folder] += objects[key]
        if unsafe_reason(inner) is not None:
            spoiled.add(folder)
    return {folder: size for folder, size in totals.items() if folder not in spoiled}


def unsafe_error(entries: Iterable[str], where: str) -> UnsafeDatasetFileError:
    """The error for datasets in ``where`` that hold ``entries`` never copied."""
    listed = sorted(entries)
    shown, more = first_few(listed, 5)
    names = ", ".join(repr(entry) for entry in shown)
    return UnsafeDatasetFileError(
        f"Refused to copy from {where}: {len(listed)} dataset entr"
        f"{'y is' if len(listed) == 1 else 'ies are'} a link, a FIFO, a device, an "
        "unreadable folder or a path that could land outside its dataset folder (such "
        f"as '..' or a backslash): {names}{more}. "
        "Nothing of the transfer was written; remove or replace these entries and try again."
    )


def copy_verified(
    source: BinaryIO,
    write: Callable[[bytes], object],
    expected: DatasetFile,
    where: str,
    on_bytes: Callable[[int], None] | None = None,
    *,
    md5: bool = False,
    sha256: bool = False,
    blob: bool = False,
) -> Digest:
    """Copy ``source`` into ``write`` in chunks, computing only the hashes that are
    checked or asked for: each one the source lists, and those ``md5``, ``sha256``
    and ``blob`` ask for (the target keeps or needs them).

    Args:
        source: The open source file.
        write: Writes one chunk to the target.
        expected: The source file as listed: what was read must match its size
            (and its MD5, where the source keeps one).
        where: The file's location, for the error.
        on_bytes: Called with the size of each chunk written.
        md5: Compute the MD5 even if the source lists none.
        sha256: Compute the SHA-256 even if the source lists none.
        blob: Compute git's object id even if the source lists none.

    Returns:
        The size (and the hashes computed) of what was copied.

    Raises:
        CopyVerificationError: If the size or the MD5 read differs from the listing.
    """
    hashers: dict[str, Any] = {}
    if md5 or expected.md5 is not None:
        hashers["md5"] = hashlib.md5(usedforsecurity=False)
    if sha256 or expected.sha256 is not None:
        hashers["sha256"] = hashlib.sha256()
    if blob or expected.blob_id is not None:
        # Git's id hashes a header holding the size: the listed one, checked below.
        header = b"blob %d\0" % max(expected.size, 0)
        hashers["blob"] = hashlib.sha1(header, usedforsecurity=False)
    size = 0
    while chunk := source.read(CHUNK_BYTES):
        for hasher in hashers.values():
            hasher.update(chunk)
        write(chunk)
        size += len(chunk)
        if on_bytes is not None:
            on_bytes(len(chunk))
    found = {name: hasher.hexdigest() for name, hasher in hashers.items()}
    digest = Digest(size, found.get("md5"), found.get("sha256"), found.get("blob"))
    check_copy(expected, digest.size, digest.md5, where)
    check_hashes(expected, digest, where)
    return digest


def check_hashes(expected: DatasetFile, digest: Digest, where: str) -> None:
    """Raise if the SHA-256 or git id of what was read differs from the one the
    source listed (where it listed one).

    Raises:
        CopyVerificationError: Naming ``where``, the file.
    """
    for name, listed, read in (
        ("SHA-256", expected.sha256, digest.sha256),
        ("git id", expected.blob_id, digest.blob_id),
    ):
        if listed is not None and read != listed:
            raise CopyVerificationError(
                f"Copy of {where} has {name} {read}, but the source lists {listed}: the "
                "bytes were damaged on the way. Run the transfer again."
            )


def check_copy(expected: DatasetFile, size: int, md5: str | None, where: str) -> None:
    """Raise if ``size`` (or ``md5``, where both sides know one) differs from
    ``expected``'s.

    Raises:
        CopyVerificationError: Naming ``where``, the file.
    """
    if size != expected.size:
        raise CopyVerificationError(
            f"Copy of {where} is {size} bytes, but the source listed {expected.size}: "
            "it changed while being copied, or the transfer was cut. Run the transfer again."
        )
    if md5 is not None and expected.md5 is not None and md5 != expected.md5:
        raise CopyVerificationError(
            f"Copy of {where} has MD5 {md5}, but the source lists {expected.md5}: the "
            "bytes were damaged on the way. Run the transfer again."
        )
