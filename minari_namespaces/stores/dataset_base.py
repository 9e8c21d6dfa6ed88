"""The dataset half of the store base: what a store does with the datasets it holds.

:class:`DatasetStoreBase` is the mixin that
:class:`~minari_namespaces.stores.base.NamespaceStoreBase` builds on, as
:mod:`~minari_namespaces.stores.local_datasets` and
:mod:`~minari_namespaces.stores.fsspec_datasets` sit beside their stores. A store
provides the dataset primitives (the raw ``data/metadata.json`` of datasets, the
files of a dataset from one listing, opening one, writing one whole, bookkeeping
records); this class turns them into reading datasets' metadata, listing their files
safely, checked writes and the transfer hooks, with the same rules and texts
everywhere.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import TYPE_CHECKING, BinaryIO, Final

from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetReader,
    DatasetWrite,
    FileSource,
    Runner,
    run_in_turn,
    unsafe_error,
    unsafe_reason,
)
from minari_namespaces.datasets import (
    DatasetEntry,
    DatasetId,
    UnreadableFile,
    decode_dataset_metadata,
)
from minari_namespaces.errors import CorruptMetadataError, UnsafeDatasetFileError, first_few

if TYPE_CHECKING:
    # Only a type: the base module imports this one to build on it.
    from minari_namespaces.stores.base import StoreTexts

__all__ = ["SHOWN", "DatasetStoreBase"]

#: How many names a store's error lists before "and N more" (the base's texts too).
SHOWN: Final = 5


class DatasetStoreBase(ABC):
    """The dataset primitives of a store and the rules built on them.

    A store provides :meth:`_read_dataset_files` (the raw ``data/metadata.json`` of
    datasets) and, for transfers of datasets, :meth:`_list_files` (files and entries
    never copied, one listing), :meth:`open_dataset_file`, :meth:`_write_dataset`
    (whole or not at all), :meth:`read_record` and :meth:`write_record`.
    ``read_datasets``, ``dataset_files``, ``write_dataset``, ``open_dataset``,
    ``remove_leftovers``, ``keeps_records`` and ``write_batch`` come from here; a
    store overrides one only to do the same thing with fewer requests.
    """

    texts: StoreTexts

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the store lives, without credentials."""

    # -- primitives ----------------------------------------------------------

    @abstractmethod
    def _read_dataset_files(
        self, ids: Sequence[DatasetId]
    ) -> dict[DatasetId, bytes | UnreadableFile | None]:
        """The raw ``data/metadata.json`` of each dataset (at most
        ``MAX_METADATA_BYTES + 1`` bytes of it), ``None`` where it is missing, and
        why where it cannot be read (the entry's error, never the listing's)."""

    @abstractmethod
    def _list_files(
        self, ids: Sequence[DatasetId]
    ) -> tuple[dict[DatasetId, list[DatasetFile]], dict[DatasetId, list[str]]]:
        """The files of each listed (complete) dataset of ``ids`` from one listing,
        sorted by path, and per dataset the entries that are never copied (links,
        FIFOs, devices, keys outside the folder) by their relative path; datasets
        the store does not hold are left out."""

    @abstractmethod
    def open_dataset_file(
        self, dataset: DatasetId, file: DatasetFile
    ) -> AbstractContextManager[BinaryIO]:
        """Open one file of ``dataset`` for streaming, never following a link.

        Raises:
            FileNotFoundError: If it is gone.
            RemoteError: If a remote backend fails.
        """

    @contextmanager
    def open_dataset(
        self, dataset: DatasetId, files: Sequence[DatasetFile] = (), *, jobs: int = 1
    ) -> Iterator[DatasetReader]:
        """Open ``dataset`` for reading: an opener of one file at a time (a local store
        opens the folder once; an object store reads small ``files`` ahead), here by
        :meth:`open_dataset_file`, each open waiting on the store.

        Raises:
            FileNotFoundError: If the dataset is gone (or, from the opener, a file).
            RemoteError: If a remote backend fails.
        """
        yield DatasetReader(partial(self.open_dataset_file, dataset))

    @abstractmethod
    def _write_dataset(self, dataset: DatasetId, write: DatasetWrite) -> list[CopiedFile]:
        """Write ``dataset`` whole or not at all (see :meth:`write_dataset`)."""

    @abstractmethod
    def read_record(self, name: str) -> bytes | None:
        """The bookkeeping file ``name``, or ``None``: it lives in
        :data:`~minari_namespaces.stores.base.BOOKKEEPING_FOLDER`.

        Raises:
            RemoteError: If a remote backend fails.
        """

    @abstractmethod
    def write_record(self, name: str, payload: bytes) -> None:
        """Write the bookkeeping file ``name`` in
        :data:`~minari_namespaces.stores.base.BOOKKEEPING_FOLDER` atomically (a reader
        sees the old or the new content).

        Raises:
            RemoteError: If a remote backend fails.
        """

    # -- datasets, once --------------------------------------------------------

    def read_datasets(self, ids: Iterable[DatasetId]) -> list[DatasetEntry]:
        """The ``data/metadata.json`` of each dataset, read in one batch and
        leniently: an entry whose file is missing or corrupt carries the error
        (naming the file) instead of metadata; the others are unaffected.

        Returns:
            One entry per distinct id, in the order given.

        Raises:
            RemoteError: If a remote backend fails.
        """
        wanted = list(dict.fromkeys(ids))
        raw = self._read_dataset_files(wanted) if wanted else {}
        entries: list[DatasetEntry] = []
        for dataset in wanted:
            try:
                data = decode_dataset_metadata(
                    raw.get(dataset), self.texts.dataset_metadata(dataset)
                )
            except CorruptMetadataError as error:
                entries.append(DatasetEntry(dataset, error=error))
            else:
                entries.append(DatasetEntry(dataset, metadata=data))
        return entries

    def dataset_files(
        self, ids: Iterable[DatasetId], *, strict: bool = True
    ) -> dict[DatasetId, list[DatasetFile]]:
        """The files of each dataset of ``ids`` the store holds (complete ones
        only), from one listing; datasets it lacks are left out.

        Args:
            ids: The datasets.
            strict: Refuse entries never copied (links, FIFOs, devices, keys outside
                the folder); else list them with size ``-1`` (never equal a source's).

        Raises:
            UnsafeDatasetFileError: If ``strict`` and a dataset holds such an entry,
                or a file where another of its keys needs a folder.
            RemoteError: If a remote backend fails.
        """
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        listed, unsafe = self._list_files(wanted)
        for dataset, files in listed.items():
            # A name no folder walk refuses (a backslash in a local file's name) is
            # still no path to write anywhere: refused here, while planning.
            outside = [file.path for file in files if unsafe_reason(file.path) is not None]
            if outside:
                unsafe.setdefault(dataset, []).extend(outside)
                listed[dataset] = [file for file in files if file.path not in outside]
        if unsafe and strict:
            raise unsafe_error(
                (f"{dataset}/{entry}" for dataset, entries in unsafe.items() for entry in entries),
                self.url,
            )
        if strict:
            self._refuse_clashes(listed)
        for dataset, entries in unsafe.items():
            held = listed.setdefault(dataset, [])
            held += [DatasetFile(entry, -1) for entry in entries]
            held.sort()
        return listed

    def _refuse_clashes(self, listed: dict[DatasetId, list[DatasetFile]]) -> None:
        """Refuse a dataset whose keys hold a file where another key needs a folder
        (``data/a`` and ``data/a/b``): no file system can hold both.

        Raises:
            UnsafeDatasetFileError: Naming the dataset and both keys.
        """
        clashes: list[str] = []
        for dataset, files in listed.items():
            below: dict[str, str] = {}
            for file in files:
                parts = file.path.split("/")
                for depth in range(1, len(parts)):
                    below.setdefault("/".join(parts[:depth]), file.path)
            clashes += [
                f"'{dataset}' holds '{file.path}' and '{below[file.path]}'"
                for file in files
                if file.path in below
            ]
        if clashes:
            shown, more = first_few(clashes, SHOWN)
            raise UnsafeDatasetFileError(
                f"Refused to copy from {self.url}: {'; '.join(shown)}{more}: a file where "
                "another key needs a folder, which no file system can hold. Nothing of the "
                "transfer was written; remove or rename one of each pair and try again."
            )

    def write_dataset(
        self,
        dataset: DatasetId,
        files: Sequence[DatasetFile],
        source: FileSource,
        *,
        replace: bool = False,
        run: Runner = run_in_turn,
        on_bytes: Callable[[int], None] | None = None,
        jobs: int = 1,
        reads_ahead: bool = False,
    ) -> list[CopiedFile]:
        """Write ``dataset`` with exactly ``files``, read through ``source``: whole or
        not at all, for our listings and Minari's, even if the process is killed.

        Each file streams in chunks and is checked (size, and MD5 where both sides
        know it) before the dataset appears; a bad copy is removed, and so are the
        leftovers of an interrupted write.

        Args:
            dataset: The dataset to write.
            files: Its files as the source lists them.
            source: Opens a source file for reading.
            replace: Replace the dataset if the store holds it (no file of the old
                version is left); otherwise a dataset already there is an error.
            run: Runs the file copies (concurrently, if it can).
            on_bytes: Called with the size of each chunk written.
            jobs: Requests in flight at once (an asynchronous object store's).
            reads_ahead: Whether ``source`` opens a file without waiting on the
                network (:attr:`~minari_namespaces.dataset_files.DatasetReader.reads_ahead`):
                only then may one copy task read many files in turn.

        Returns:
            Each file as the store now lists it (and its SHA-256, if computed).

        Raises:
            UnsafeDatasetFileError: If a path would land outside the dataset folder.
            CopyVerificationError: If a copy differs from its source.
            NamespaceConflictError: If it appeared meanwhile and ``replace`` is false.
            RemoteError: If a remote backend fails.
        """
        unsafe = [file.path for file in files if unsafe_reason(file.path) is not None]
        if unsafe:
            shown, more = first_few(unsafe, SHOWN)
            raise UnsafeDatasetFileError(
                f"Refused to write dataset '{dataset}' into {self.url}: "
                f"{', '.join(map(repr, shown))}{more} would land outside its folder. "
                "Nothing of this dataset was written."
            )
        return self._write_dataset(
            dataset, DatasetWrite(files, source, replace, run, on_bytes, jobs, reads_ahead)
        )

    def remove_leftovers(self, datasets: Iterable[DatasetId]) -> None:
        """Remove what interrupted dataset writes left in the namespace folders that
        hold ``datasets`` (any dataset's leftovers there), except what a live writer
        still holds.

        Raises:
            RemoteError: If a remote backend fails.
        """
        return None  # here an interrupted write is invisible; its next write cleans it

    @property
    def keeps_records(self) -> bool:
        """Whether the store keeps a transfer's bookkeeping files (not the Hub)."""
        return True

    @contextmanager
    def write_batch(self) -> Iterator[None]:
        """Writes made inside the block may be committed together at its end (the
        Hub: one commit per repository); other stores write each at once.

        Raises:
            NamespaceConflictError: If a dataset written without ``replace``
                appeared meanwhile (nothing gathered is committed).
            RemoteError: If a remote backend fails.
        """
        yield
