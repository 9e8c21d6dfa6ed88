"""The dataset files of the local store: listed, read and written whole.

:class:`LocalDatasetFiles` gives :class:`~minari_namespaces.stores.local.LocalNamespaceRepository`
the transfer primitives of the store base over
:mod:`~minari_namespaces.stores.dataset_folders` (descriptor walks, no link
followed, staged writes renamed into place); bookkeeping lives in the hidden
``.minari-namespaces`` folder at the root.
"""

from __future__ import annotations

import errno
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from minari_namespaces.atomic import lexists, read_capped, replace_atomic
from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetReader,
    DatasetWrite,
)
from minari_namespaces.datasets import DatasetId
from minari_namespaces.errors import NamespaceConflictError
from minari_namespaces.stores import dataset_folders
from minari_namespaces.stores.base import (
    BOOKKEEPING_FOLDER,
    DATASET_MARKER,
    RECORD_BYTES,
    StoreTexts,
)
from minari_namespaces.stores.folders import FolderWalk

__all__ = ["LocalDatasetFiles"]


class LocalDatasetFiles:
    """The dataset-file primitives of a store rooted at the local folder :attr:`root`."""

    texts: StoreTexts
    #: Flush each dataset written to disk before it appears (see
    #: :func:`~minari_namespaces.stores.dataset_folders.write_folder`).
    durable: bool = False

    @property
    @abstractmethod
    def root(self) -> Path:
        """The absolute dataset folder."""

    def _list_files(
        self, ids: Sequence[DatasetId]
    ) -> tuple[dict[DatasetId, list[DatasetFile]], dict[DatasetId, list[str]]]:
        files: dict[DatasetId, list[DatasetFile]] = {}
        unsafe: dict[DatasetId, list[str]] = {}
        for dataset in ids:
            with FolderWalk(str(self.root)) as walk:
                if not (walk.opened and walk.reach(dataset.parts)):
                    continue
                if not lexists(DATASET_MARKER, walk.fd):
                    continue
                found = dataset_folders.list_folder(walk.parent_fd, dataset.folder)
            if found is not None:
                files[dataset], bad = found
                if bad:
                    unsafe[dataset] = bad
        return files, unsafe

    @contextmanager
    def open_dataset_file(self, dataset: DatasetId, file: DatasetFile) -> Iterator[BinaryIO]:
        """Open one file of ``dataset``, never following a link.

        Raises:
            FileNotFoundError: If it is gone.
            UnsafeDatasetFileError: If it is a link or not a regular file.
        """
        with self.open_dataset(dataset) as reader, reader.open(file) as handle:
            yield handle

    @contextmanager
    def open_dataset(
        self, dataset: DatasetId, files: Sequence[DatasetFile] = (), *, jobs: int = 1
    ) -> Iterator[DatasetReader]:
        """Open ``dataset``'s folder once, for reading its files: each folder inside
        it is opened once too, never through a link (``files`` and ``jobs`` change
        nothing here: a local read is not worth reading ahead, and waits on no
        network).

        Raises:
            FileNotFoundError: If the dataset is gone (on entering).
            UnsafeDatasetFileError: From the opener, if a file is a link or not a
                regular file.
        """
        where = f"{self.texts.url}/{dataset}"
        with FolderWalk(str(self.root)) as walk:
            if not (walk.opened and walk.reach(dataset.parts)):
                raise FileNotFoundError(errno.ENOENT, "no such dataset", where)
            with dataset_folders.FolderTree(walk.fd, make=False) as tree:
                yield DatasetReader(
                    lambda file: dataset_folders.read_file(tree, file.path, where),
                    reads_ahead=True,
                )

    def _write_dataset(self, dataset: DatasetId, write: DatasetWrite) -> list[CopiedFile]:
        with FolderWalk(str(self.root), make=True) as walk:
            if not walk.reach(dataset.parts[:-1]):
                raise NamespaceConflictError(
                    f"Cannot copy dataset '{dataset}' into {self.texts.url}: a file or a symbolic "
                    "link holds a folder on its path. Move it away first."
                )
            return dataset_folders.write_folder(
                walk.fd,
                dataset.folder,
                write,
                f"{self.texts.url}/{dataset}",
                durable=self.durable,
            )

    def remove_leftovers(self, datasets: Iterable[DatasetId]) -> None:
        """Remove the unlocked staging and old folders in the namespace folders that
        hold ``datasets`` (one listing of each folder)."""
        for parts in sorted({dataset.parts[:-1] for dataset in datasets}):
            with FolderWalk(str(self.root)) as walk:
                if walk.opened and walk.reach(parts):
                    dataset_folders.remove_leftovers(walk.fd)

    def read_record(self, name: str) -> bytes | None:
        """The bookkeeping file ``name``, or ``None``."""
        with FolderWalk(str(self.root)) as walk:
            if not (walk.opened and walk.reach((BOOKKEEPING_FOLDER,))):
                return None
            return read_capped(name, walk.fd, RECORD_BYTES)

    def write_record(self, name: str, payload: bytes) -> None:
        """Write the bookkeeping file ``name`` atomically; flushed to disk only for a
        :attr:`durable` store, as the datasets it describes are."""
        with FolderWalk(str(self.root), make=True) as walk:
            if not walk.reach((BOOKKEEPING_FOLDER,)):
                raise NamespaceConflictError(
                    f"Cannot keep transfer records in {self.texts.url}/{BOOKKEEPING_FOLDER}: "
                    "it is a file or a symbolic link. Move it away first."
                )
            replace_atomic(walk.fd, name, payload, durable=self.durable)
