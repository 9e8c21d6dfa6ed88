"""The dataset files of the fsspec store: listed, read and written whole.

:class:`FsspecDatasetFiles` gives
:class:`~minari_namespaces.stores.fsspec.FsspecNamespaceRepository` the transfer
primitives of the store base over its driver. On an object store a dataset is
whole when its ``data/metadata.json`` is there: the driver writes that file last,
and the listing shows no dataset without it (an interrupted upload is invisible
and the next write of that dataset cleans it up). On ``file://`` the driver
stages the folder and renames it into place, as the local store does.
Bookkeeping lives under the hidden ``.minari-namespaces`` folder at the root.
"""

from __future__ import annotations

import io
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import replace
from functools import partial
from typing import BinaryIO, cast

from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetReader,
    DatasetWrite,
    RegularFile,
    folder_sizes,
    in_folders,
    total_size,
)
from minari_namespaces.datasets import DatasetId
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.stores.base import (
    BOOKKEEPING_FOLDER,
    DATASET_MARKER,
    RECORD_BYTES,
    Parts,
    StoreTexts,
)
from minari_namespaces.stores.drivers.driver import Driver
from minari_namespaces.stores.drivers.fsspec_driver import DATASET_MARK

__all__ = ["FsspecDatasetFiles"]


class FsspecDatasetFiles:
    """The dataset-file primitives of a store that talks through a driver."""

    texts: StoreTexts

    @property
    @abstractmethod
    def driver(self) -> Driver:
        """The store's driver."""

    @abstractmethod
    def path_of(self, parts: Parts) -> str:
        """The backend path of the folder at ``parts``."""

    @abstractmethod
    def backend(
        self, action: str, ns: NamespaceId | None = None, written: Sequence[NamespaceId] = ()
    ) -> AbstractContextManager[None]:
        """One batch of requests, its failures as ``RemoteError``."""

    def whole_datasets(self, folders: list[Parts], keys: Sequence[Parts]) -> list[Parts]:
        """The dataset ``folders`` that a listing of ``keys`` shows as whole: on
        ``file://`` every one (a dataset appears by a rename); on object stores
        those whose ``data/metadata.json`` is there (it is written last)."""
        if self.driver.staged_datasets:
            return folders
        present = set(keys)
        return [folder for folder in folders if (*folder, *DATASET_MARK.split("/")) in present]

    def dataset_sizes(self, folders: list[Parts], listed: Mapping[Parts, int]) -> dict[Parts, int]:
        """The total size of each dataset of ``folders``: from the store's ``listed``
        objects, or where its listing does not enter datasets (``file://``) from a
        walk of each folder on local disk; a dataset that holds an entry never
        copied has none."""
        if self.driver.lists_dataset_files:
            return folder_sizes(folders, listed)
        found = {
            folder: total_size(*self.driver.stat_files(self.path_of(folder))) for folder in folders
        }
        return {folder: size for folder, size in found.items() if size is not None}

    def _list_files(
        self, ids: Sequence[DatasetId]
    ) -> tuple[dict[DatasetId, list[DatasetFile]], dict[DatasetId, list[str]]]:
        """The files of ``ids`` from one listing of the folder they all lie in."""
        common = ids[0].parts[:-1]
        for dataset in ids:
            while dataset.parts[: len(common)] != common:
                common = common[:-1]
        folder = self.path_of(common)
        with self.backend(f"list the files of {len(ids)} dataset(s)"):
            listed, unsafe = self.driver.stat_files(folder)
        by_key = {dataset.parts[len(common) :]: dataset for dataset in ids}
        entries: dict[Parts, DatasetFile | None] = {
            tuple(file.path.split("/")): file for file in listed
        }
        entries.update((tuple(path.split("/")), None) for path in unsafe)
        files: dict[DatasetId, list[DatasetFile]] = {}
        bad: dict[DatasetId, list[str]] = {}
        for key, below, inner in in_folders(entries, by_key.keys()):
            owner, entry = by_key[below], entries[key]
            if entry is None:
                bad.setdefault(owner, []).append(inner)
            else:
                files.setdefault(owner, []).append(replace(entry, path=inner))
        mark = DATASET_MARKER if self.driver.staged_datasets else DATASET_MARK
        whole = {
            dataset
            for dataset, held in files.items()
            if any(file.path == mark or file.path.startswith(f"{mark}/") for file in held)
        }
        return (
            {dataset: held for dataset, held in files.items() if dataset in whole},
            {dataset: entries for dataset, entries in bad.items() if dataset in whole},
        )

    @contextmanager
    def open_dataset_file(self, dataset: DatasetId, file: DatasetFile) -> Iterator[BinaryIO]:
        """Open one file of ``dataset`` for streaming reads.

        Raises:
            FileNotFoundError: If it is gone.
            RemoteError: If the backend fails.
        """
        with self.open_dataset(dataset) as reader, reader.open(file) as handle:
            yield handle

    @contextmanager
    def open_dataset(
        self, dataset: DatasetId, files: Sequence[DatasetFile] = (), *, jobs: int = 1
    ) -> Iterator[DatasetReader]:
        """Open ``dataset`` for reading its files; an asynchronous filesystem reads
        the small ones of ``files`` ahead, in their order, ``jobs`` at once.

        Raises:
            RemoteError: If the backend fails.
        """
        with self.driver.read_ahead(self.path_of(dataset.parts), files, jobs) as opener:

            @contextmanager
            def open_one(file: DatasetFile) -> Iterator[BinaryIO]:
                # The store's failures (opening, reading) are its RemoteError; those
                # of whoever reads (a full local disk) pass through as they are.
                with ExitStack() as opened:
                    request = partial(self.backend, f"read {dataset}/{file.path}")
                    with request():
                        handle = opened.enter_context(opener(file))
                    yield (
                        handle
                        if isinstance(handle, RegularFile)
                        else cast(BinaryIO, _Reads(handle, request))
                    )

            yield DatasetReader(open_one, reads_ahead=self.driver.reads_ahead)

    def _write_dataset(self, dataset: DatasetId, write: DatasetWrite) -> list[CopiedFile]:
        with self.backend(f"copy dataset {dataset}"):
            try:
                folder = self.path_of(dataset.parts)
                return self.driver.write_dataset(folder, write, f"{self.texts.url}/{dataset}")
            except FileExistsError:
                raise self.texts.dataset_appeared(dataset) from None

    def remove_leftovers(self, datasets: Iterable[DatasetId]) -> None:
        """Remove what interrupted writes left in the namespace folders that hold
        ``datasets``, where the driver stages datasets (``file://``).

        Raises:
            RemoteError: If the backend fails.
        """
        folders = sorted({self.path_of(dataset.parts[:-1]) for dataset in datasets})
        if folders:
            with self.backend("remove the leftovers of interrupted transfers"):
                self.driver.remove_leftovers(folders)

    @property
    def keeps_records(self) -> bool:
        """Whether the store keeps a transfer's bookkeeping files (not the Hub)."""
        return self.driver.keeps_records

    @contextmanager
    def write_batch(self) -> Iterator[None]:
        """Writes made inside the block are committed together at its end where the
        driver gathers them (the Hub); nothing gathered is committed if it raises.

        Raises:
            NamespaceConflictError: If a dataset written without ``replace``
                appeared meanwhile.
            RemoteError: If the backend fails.
        """
        if not self.driver.begin_batch():
            yield
            return
        try:
            yield
        except BaseException:
            self.driver.end_batch(commit=False)
            raise
        try:
            with self.backend("commit the gathered writes"):
                self.driver.end_batch(commit=True)
        except FileExistsError as appeared:
            dataset = DatasetId(str(appeared).split("/", 1)[1])
            raise self.texts.dataset_appeared(dataset) from None

    def read_record(self, name: str) -> bytes | None:
        """The bookkeeping file ``name``, or ``None``.

        Raises:
            RemoteError: If the backend fails.
        """
        with self.backend("read a transfer record"):
            try:
                with self.driver.open_file(self.path_of((BOOKKEEPING_FOLDER, name))) as handle:
                    data: bytes = handle.read(RECORD_BYTES + 1)
            except FileNotFoundError:
                return None
        return data

    def write_record(self, name: str, payload: bytes) -> None:
        """Write the bookkeeping file ``name`` in one request.

        Raises:
            RemoteError: If the backend fails.
        """
        with self.backend("write a transfer record"):
            self.driver.put(self.path_of((BOOKKEEPING_FOLDER, name)), payload)


class _Reads(io.BufferedIOBase):
    """A store's open file whose reads fail as the store's ``request`` says (a
    ``RemoteError``): a failure while reading is told apart from the reader's own.

    Args:
        inner: The open file.
        request: The store's context for one request (see ``backend``).
    """

    def __init__(
        self, inner: BinaryIO, request: Callable[[], AbstractContextManager[None]]
    ) -> None:
        super().__init__()
        self._inner = inner
        self._request = request

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        try:
            return self._inner.read(-1 if size is None else size)
        except Exception:
            with self._request():  # the store's own account of its failure
                raise
            raise

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size)
