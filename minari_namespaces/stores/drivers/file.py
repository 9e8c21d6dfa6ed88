"""The ``file://`` driver: the local store's guarantees behind an fsspec URL.

Atomic writes (temporary file, fsync, ``os.link`` to create, ``os.replace`` to
overwrite), a folder ``flock`` around read-modify-write, and no symbolic link
ever followed: every path is walked from a descriptor of the root with
:class:`~minari_namespaces.stores.folders.FolderWalk`, as the local store does.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO

from minari_namespaces.atomic import (
    DIR_FLAGS,
    create_exclusive,
    folder_lock,
    lexists,
    read_capped,
    remove_stale_temps,
    replace_atomic,
)
from minari_namespaces.dataset_files import CopiedFile, DatasetFile, DatasetWrite
from minari_namespaces.identifier import MAX_DEPTH
from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores import dataset_folders
from minari_namespaces.stores.base import DATASET_MARKER
from minari_namespaces.stores.drivers.driver import MISSING, Driver, Missing
from minari_namespaces.stores.drivers.fsspec_driver import FsspecDriver
from minari_namespaces.stores.folders import FolderWalk

__all__ = ["FileDriver"]


class FileDriver(FsspecDriver):
    """``file://``: atomic writes and folder locks, no symbolic link followed.

    A write whose folder is blocked by a file or a symbolic link raises
    ``NotADirectoryError`` naming the blocking path; the repository words it.
    Datasets are staged beside their folder and renamed into place, as locally
    (:mod:`~minari_namespaces.stores.dataset_folders`); the storage option
    ``durable=True`` flushes each to disk before it appears, as
    :class:`~minari_namespaces.stores.local.LocalNamespaceRepository`'s ``durable``.
    """

    staged_datasets = True
    lists_dataset_files = False
    reads_ahead = True  # local disk: nothing to wait for
    #: Flush each dataset written to disk before it appears (storage option ``durable``).
    durable = False

    @classmethod
    def connect(cls, url: str, options: dict[str, Any]) -> tuple[Driver, str]:
        """Open the folder at ``url``; the storage option ``durable`` is ours, not
        fsspec's.

        Raises:
            ValueError: If the URL or an option is not understood.
        """
        durable = bool(options.pop("durable", False))
        driver, shown = super().connect(url, options)
        if isinstance(driver, FileDriver):
            driver.durable = durable
        return driver, shown

    @contextmanager
    def _folder(self, folder: str, *, make: bool) -> Iterator[FolderWalk | None]:
        """The walk down to ``folder``, or ``None`` if it is missing or blocked."""
        relative = folder[len(self.root) :].strip("/")
        parts = relative.split("/") if relative else []
        with FolderWalk(self.root or "/", make=make) as walk:
            if not walk.opened:
                yield None
                return
            if not walk.reach(parts):
                if make:
                    # Every folder above the blocked one was opened (or made).
                    blocked = "/".join([self.root.rstrip("/"), *parts[: len(walk.fds)]])
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), blocked)
                yield None
                return
            yield walk

    def read(self, path: str) -> bytes | Missing:
        folder, name = path.rsplit("/", 1)
        with self._folder(folder, make=False) as walk:
            data = None if walk is None else read_capped(name, walk.fd, MAX_METADATA_BYTES)
        return MISSING if data is None else data

    def create(self, path: str, payload: bytes) -> None:
        folder, name = path.rsplit("/", 1)
        with self._folder(folder, make=True) as walk:
            assert walk is not None
            remove_stale_temps(walk.fd, name)
            create_exclusive(walk.fd, name, payload)

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        self._replace(path, payload, durable=True)

    def _replace(self, path: str, payload: bytes, *, durable: bool) -> None:
        folder, name = path.rsplit("/", 1)
        with self._folder(folder, make=True) as walk:
            assert walk is not None
            remove_stale_temps(walk.fd, name)
            replace_atomic(walk.fd, name, payload, durable=durable)

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        with self._folder(path.rsplit("/", 1)[0], make=False) as walk:
            if walk is None:
                yield
                return
            with folder_lock(walk.fd):
                yield

    def names(self, folder: str) -> list[str]:
        with self._folder(folder, make=False) as walk:
            if walk is None:
                return []
            with os.scandir(walk.fd) as entries:
                return [entry.name for entry in entries]

    def any_under(self, path: str) -> bool:
        folder, name = path.rsplit("/", 1)
        with self._folder(folder, make=False) as walk:
            return walk is not None and lexists(name, walk.fd)

    def find(self, path: str) -> dict[str, int]:
        """The files under ``path`` with their sizes, down to the depth where a key
        can still be a namespace's marker or a dataset's entry (one level past the
        deepest id, so that a marker one level too deep is reported): a chain of
        folders of any depth costs no more, and never exhausts the stack. A
        dataset's ``data`` folder is an entry of size 0, never entered."""
        relative = path[len(self.root) :].strip("/")
        levels = MAX_DEPTH + 1 - (len(relative.split("/")) if relative else 0)
        with self._folder(path, make=False) as walk:
            if walk is None:
                return {}
            files: dict[str, int] = {}
            self._walk(walk.fd, path.rstrip("/"), files, levels)
        return files

    def _walk(self, fd: int, path: str, files: dict[str, int], levels: int) -> None:
        with os.scandir(fd) as entries:
            listed = [
                (entry.name, entry.is_dir(follow_symlinks=False), _file_size(entry))
                for entry in entries
            ]
        for name, is_dir, size in listed:
            if size is not None:
                files[f"{path}/{name}"] = size
            elif is_dir and name == DATASET_MARKER:
                # A ``data`` folder makes a dataset even when it is empty, as locally;
                # it is reported as an entry and not entered.
                files[f"{path}/{name}"] = 0
            elif is_dir and levels > 0:
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                try:
                    self._walk(child, f"{path}/{name}", files, levels - 1)
                finally:
                    os.close(child)

    def remove(self, paths: Sequence[str], folder: str) -> None:
        for path in paths:
            parent, name = path.rsplit("/", 1)
            with self._folder(parent, make=False) as walk:
                if walk is not None:
                    with suppress(FileNotFoundError):
                        os.unlink(name, dir_fd=walk.fd)
        above, name = folder.rsplit("/", 1)
        with self._folder(above, make=False) as walk:
            if walk is not None:
                with suppress(OSError):
                    os.rmdir(name, dir_fd=walk.fd)

    # -- dataset files: staged and renamed into place, as locally ----------------

    def stat_files(self, folder: str) -> tuple[list[DatasetFile], list[str]]:
        with self._folder(folder, make=False) as walk:
            return ([], []) if walk is None else dataset_folders.list_open(walk.fd)

    @contextmanager
    def open_file(self, path: str) -> Iterator[BinaryIO]:
        relative = path[len(self.root) :].strip("/")
        with self._folder(self.root, make=False) as walk:
            if walk is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
            handle = dataset_folders.open_in_folder(walk.fd, relative, self.root)
        with handle:
            yield handle

    def write_dataset(self, folder: str, write: DatasetWrite, where: str) -> list[CopiedFile]:
        parent, name = folder.rsplit("/", 1)
        with self._folder(parent, make=True) as walk:
            assert walk is not None
            return dataset_folders.write_folder(walk.fd, name, write, where, durable=self.durable)

    def remove_leftovers(self, folders: Sequence[str]) -> None:
        for folder in folders:
            with self._folder(folder, make=False) as walk:
                if walk is not None:
                    dataset_folders.remove_leftovers(walk.fd)

    def put(self, path: str, payload: bytes) -> None:
        """Write a transfer record atomically; flushed to disk only with ``durable``,
        as the datasets it describes are (a record lost to a power loss costs one
        rehash of the files it named)."""
        self._replace(path, payload, durable=self.durable)


def _file_size(entry: os.DirEntry[str]) -> int | None:
    """The size of the regular file ``entry``; ``None`` if it is something else or
    vanished since the folder was read."""
    try:
        return (
            entry.stat(follow_symlinks=False).st_size
            if entry.is_file(follow_symlinks=False)
            else None
        )
    except FileNotFoundError:
        return None
