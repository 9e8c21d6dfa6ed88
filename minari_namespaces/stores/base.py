"""The rules and texts every store shares, and the skeleton they are built on.

One owner per rule: the layout constants, every standard error text (built from
the store's URL, so each store says the same words for the same situation), the
dataset rule, ``create_many`` (check every conflict first, then parents first,
one level at a time), ``children`` from a listing and the default ``get_many``
live here. A store implements only its primitives (see
:class:`NamespaceStoreBase`); the in-memory fake in
:mod:`minari_namespaces.testing` is built on the same base.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO, Final, NamedTuple, TypeVar

from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetWrite,
    FileSource,
    Runner,
    run_in_turn,
    unsafe_error,
    unsafe_reason,
)
from minari_namespaces.datasets import (
    DATASET_METADATA_FILENAME,
    DatasetEntry,
    DatasetId,
    TreeListing,
    UnreadableFile,
    dataset_ids_of,
    decode_dataset_metadata,
)
from minari_namespaces.errors import (
    CorruptMetadataError,
    InvalidNamespaceError,
    NamespaceConflictError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    UnsafeDatasetFileError,
    first_few,
)
from minari_namespaces.identifier import NamespaceId, check_batch_twins
from minari_namespaces.metadata import (
    METADATA_FILENAME,
    MetadataChange,
    NamespaceMetadata,
    decode_metadata,
)

__all__ = [
    "BOOKKEEPING_FOLDER",
    "DATASET_MARKER",
    "METADATA_FILENAME",
    "OS_JUNK_FILES",
    "RECORD_BYTES",
    "NamespaceStoreBase",
    "Scan",
    "StoreTexts",
    "create_each",
    "datasets_in",
    "inside_dataset",
    "outermost_datasets",
]

#: The entry that makes a folder a Minari dataset (``<name>/data/...``).
DATASET_MARKER: Final = "data"
#: The hidden folder at a store's root where transfers keep their records: never a
#: namespace or a dataset for our listings nor for Minari's (both skip hidden folders).
BOOKKEEPING_FOLDER: Final = ".minari-namespaces"
#: The largest bookkeeping file read back (a record of many thousand datasets).
RECORD_BYTES: Final = 256 * 1024 * 1024
#: Files the operating system leaves behind; they do not make a namespace non-empty.
OS_JUNK_FILES: Final = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_SHOWN: Final = 5

Parts = tuple[str, ...]
K = TypeVar("K")


class Scan(NamedTuple):
    """What one listing of a subtree finds: its namespaces (sorted), its outermost
    dataset folders (path segments from the root, sorted) and, where asked for, the
    total size in bytes of each folder's files that the listing shows (a folder
    holding an entry never copied has none)."""

    namespaces: list[NamespaceId]
    datasets: list[Parts]
    sizes: dict[Parts, int]


def datasets_in(keys: Iterable[Parts]) -> set[Parts]:
    """The dataset folders among object keys given as path segments: every
    folder with a ``data`` entry directly inside it."""
    return {key[:i] for key in keys for i, part in enumerate(key) if part == DATASET_MARKER and i}


def inside_dataset(parts: Parts, datasets: set[Parts]) -> Parts | None:
    """The folder of ``datasets`` that ``parts`` is (or lies inside), if any."""
    for depth in range(1, len(parts) + 1):
        if parts[:depth] in datasets:
            return parts[:depth]
    return None


def outermost_datasets(datasets: Iterable[Parts]) -> list[Parts]:
    """The dataset folders of ``datasets`` that do not lie inside another one
    (a dataset's own files are never searched for more datasets), sorted."""
    found = set(datasets)
    return sorted(folder for folder in found if inside_dataset(folder[:-1], found) is None)


def create_each(items: Sequence[tuple[K, bytes]], create: Callable[[K, bytes], None]) -> list[bool]:
    """Call ``create`` on each item in turn; ``True`` where it raised
    ``FileExistsError`` (the target existed), ``False`` where it created it."""
    existed: list[bool] = []
    for key, payload in items:
        try:
            create(key, payload)
        except FileExistsError:
            existed.append(True)
        else:
            existed.append(False)
    return existed


def _listing(items: Sequence[str]) -> str:
    shown, more = first_few(items, _SHOWN)
    return ", ".join(shown) + more


class StoreTexts:
    """Every standard error of a store, worded once, naming the store's URL."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") or url

    def where(self, ns: NamespaceId | None) -> str:
        """The location of ``ns`` (the store itself for ``None``)."""
        return self.url if ns is None else f"{self.url}/{ns}"

    def marker(self, ns: NamespaceId) -> str:
        """The location of the marker of ``ns``."""
        return f"{self.where(ns)}/{METADATA_FILENAME}"

    def not_found(self, ns: NamespaceId) -> NamespaceNotFoundError:
        return NamespaceNotFoundError(
            f"Namespace '{ns}' does not exist in {self.url} (no {METADATA_FILENAME} at "
            f"{self.where(ns)}). Create it first, or check the spelling."
        )

    def exists(self, ns: NamespaceId) -> NamespaceExistsError:
        return NamespaceExistsError(f"Namespace '{ns}' already exists in {self.url}.")

    def not_empty(self, ns: NamespaceId, holds: Sequence[str]) -> NamespaceNotEmptyError:
        return NamespaceNotEmptyError(
            f"Namespace '{ns}' is not empty: {self.where(ns)} still holds {_listing(holds)}. "
            "Delete its datasets and child namespaces first."
        )

    def dataset_conflict(self, ns: NamespaceId, dataset: Parts) -> NamespaceConflictError:
        what = "is" if dataset == ns.parts else "lies inside"
        return NamespaceConflictError(
            f"Cannot create namespace '{ns}': it {what} the dataset folder "
            f"{self.url}/{'/'.join(dataset)}. Namespaces cannot be created in or on datasets."
        )

    def twin_conflict(self, ns: NamespaceId, twin: Parts) -> NamespaceConflictError:
        return NamespaceConflictError(
            f"Cannot create namespace '{ns}': {self.url}/{'/'.join(twin)} differs from it "
            "only in letter case or Unicode form, which would collide on macOS and Windows. "
            "Rename one of them."
        )

    def unsupported(self, ns: NamespaceId, reason: str) -> InvalidNamespaceError:
        return InvalidNamespaceError(
            f"Malformed namespace '{ns}' for {self.url}: {reason}. Choose another name.",
            reason,
        )

    def dataset_metadata(self, dataset: DatasetId) -> str:
        """The location of the ``data/metadata.json`` of ``dataset``."""
        return f"{self.url}/{dataset}/{DATASET_MARKER}/{DATASET_METADATA_FILENAME}"

    def dataset_appeared(self, dataset: DatasetId) -> NamespaceConflictError:
        """The error of a dataset write that finds the dataset already there."""
        return NamespaceConflictError(
            f"Dataset '{dataset}' appeared in {self.url} while it was being copied; it "
            "was kept. Run the transfer again to compare it."
        )

    def not_a_folder(self, ns: NamespaceId, blocked: Parts) -> NamespaceConflictError:
        return NamespaceConflictError(
            f"Cannot create namespace '{ns}': {self.url}/{'/'.join(blocked)} is a file or a "
            "symbolic link, not a folder. Move it away first."
        )


class NamespaceStoreBase(ABC):
    """The skeleton of a :class:`~minari_namespaces.repository.NamespaceRepository`.

    A store provides its primitives; this class turns them into the whole
    protocol, with the same rules and texts everywhere:

    - :meth:`_read_marker`: the raw marker of a namespace, or ``None`` when it is
      absent, which includes "at or inside a dataset folder" (the dataset rule);
    - :meth:`_check_batch`: raise the conflict a create of any id of a batch would
      meet (dataset, file, link, case-only twin), writing nothing; return the ids
      known to exist (``_create_level`` is the authority);
    - :meth:`_create_one`: one create-only write, raising ``FileExistsError``
      (chained to the backend's own error) when the namespace exists; a store
      that can write a whole level at once overrides :meth:`_create_level` too;
    - :meth:`_scan`: the namespaces and the dataset folders of a subtree (and their
      sizes), from one listing (so datasets cost no request more than namespaces do);
    - :meth:`_read_dataset_files`: the raw ``data/metadata.json`` of datasets;
    - :meth:`modify`, :meth:`delete`, :meth:`has_datasets`;
    - for transfers of datasets: :meth:`_list_files` (files and entries never
      copied, one listing), :meth:`open_dataset_file`, :meth:`_write_dataset`
      (whole or not at all), :meth:`read_record`, :meth:`write_record`.

    ``exists``, ``get``, ``get_many``, ``create``, ``create_many``, ``replace``,
    ``list_namespaces``, ``list_datasets``, ``list_tree``, ``read_datasets`` and
    ``children`` come from here; a store overrides one only to do the same thing
    with fewer requests.
    """

    def __init__(self, url: str) -> None:
        self.texts = StoreTexts(url)

    @property
    def url(self) -> str:
        """Where the store lives, without credentials."""
        return self.texts.url

    # -- primitives ----------------------------------------------------------

    @abstractmethod
    def _read_marker(self, ns: NamespaceId) -> bytes | None:
        """The raw marker of ``ns``; ``None`` if absent or in or on a dataset."""

    @abstractmethod
    def _check_batch(self, batch: Sequence[NamespaceId]) -> set[NamespaceId]:
        """Raise the first conflict of ``batch``; return ids known to exist."""

    @abstractmethod
    def _create_one(self, ns: NamespaceId, payload: bytes) -> None:
        """Create-only write of ``ns``; ``FileExistsError`` if it exists."""

    def _create_level(self, items: Sequence[tuple[NamespaceId, bytes]]) -> list[bool]:
        """Create-only writes of one level; ``True`` where the namespace existed."""
        return create_each(items, self._create_one)

    @abstractmethod
    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Read, change and write ``ns`` atomically; return what was written."""

    @abstractmethod
    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns``."""

    @abstractmethod
    def _scan(self, prefix: NamespaceId | None, *, sizes: bool = False) -> Scan:
        """The namespaces under ``prefix`` (included) and the outermost dataset
        folders strictly under it, with their sizes if ``sizes``; all empty when
        ``prefix`` lies in or on a dataset."""

    @abstractmethod
    def _read_dataset_files(
        self, ids: Sequence[DatasetId]
    ) -> dict[DatasetId, bytes | UnreadableFile | None]:
        """The raw ``data/metadata.json`` of each dataset (at most
        ``MAX_METADATA_BYTES + 1`` bytes of it), ``None`` where it is missing, and
        why where it cannot be read (the entry's error, never the listing's)."""

    @abstractmethod
    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset folder lies directly inside ``ns``."""

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
    ) -> Iterator[FileSource]:
        """Open ``dataset`` for reading: an opener of one file at a time (a local store
        opens the folder once; an object store reads small ``files`` ahead).

        Raises:
            FileNotFoundError: If the dataset is gone (or, from the opener, a file).
            RemoteError: If a remote backend fails.
        """
        yield lambda file: self.open_dataset_file(dataset, file)

    @abstractmethod
    def _write_dataset(self, dataset: DatasetId, write: DatasetWrite) -> list[CopiedFile]:
        """Write ``dataset`` whole or not at all (see :meth:`write_dataset`)."""

    @abstractmethod
    def read_record(self, name: str) -> bytes | None:
        """The bookkeeping file ``name`` in :data:`BOOKKEEPING_FOLDER`, or ``None``.

        Raises:
            RemoteError: If a remote backend fails.
        """

    @abstractmethod
    def write_record(self, name: str, payload: bytes) -> None:
        """Write the bookkeeping file ``name`` in :data:`BOOKKEEPING_FOLDER`
        atomically (a reader sees the old or the new content).

        Raises:
            RemoteError: If a remote backend fails.
        """

    # -- the protocol, once ----------------------------------------------------

    def decode(self, ns: NamespaceId, raw: bytes) -> NamespaceMetadata:
        """Decode the marker of ``ns``, naming it if it is corrupt."""
        return decode_metadata(raw, self.texts.marker(ns))

    def exists(self, ns: NamespaceId) -> bool:
        """Whether ``ns`` exists.

        Raises:
            RemoteError: If a remote backend fails.
        """
        return self._read_marker(ns) is not None

    def get(self, ns: NamespaceId) -> NamespaceMetadata:
        """Read the metadata of ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the marker is not a JSON object of at most 1 MiB.
            RemoteError: If a remote backend fails.
        """
        raw = self._read_marker(ns)
        if raw is None:
            raise self.texts.not_found(ns)
        return self.decode(ns, raw)

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        """Read several namespaces; missing ones are left out.

        Raises:
            CorruptMetadataError: If a marker is corrupt.
            RemoteError: If a remote backend fails.
        """
        found: dict[NamespaceId, NamespaceMetadata] = {}
        for ns in dict.fromkeys(ids):
            raw = self._read_marker(ns)
            if raw is not None:
                found[ns] = self.decode(ns, raw)
        return found

    def create(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Create ``ns`` atomically; of racing creators exactly one wins.

        Raises:
            NamespaceExistsError: If ``ns`` already exists.
            NamespaceConflictError: If a dataset, a file, a link or a case-only
                twin holds the path.
            RemoteError: If a remote backend fails.
        """
        payload = metadata.to_json_bytes()
        if self._check_batch([ns]):
            raise self.texts.exists(ns)
        try:
            self._create_one(ns, payload)
        except FileExistsError:
            # The store's own words say it all; the chained error would only show
            # the name of an internal temporary file.
            raise self.texts.exists(ns) from None

    def create_many(
        self, items: Iterable[tuple[NamespaceId, NamespaceMetadata]]
    ) -> list[NamespaceId]:
        """Create each namespace, parents first, create-only.

        Every conflict (datasets, files, links, case-only twins, twins inside the
        batch) is checked before anything is written; then one level at a time,
        so a parent is always written before its children.

        Returns:
            The namespaces that already existed and were left as they were.

        Raises:
            NamespaceConflictError: If something else holds a path.
            RemoteError: If a remote backend fails.
        """
        batch = [(ns, metadata.to_json_bytes()) for ns, metadata in items]
        if not batch:
            return []
        ids = [ns for ns, _ in batch]
        check_batch_twins(ids)
        existed = self._check_batch(ids)
        existed |= self._create_levels([(ns, raw) for ns, raw in batch if ns not in existed])
        return [ns for ns in ids if ns in existed]

    def _create_levels(self, items: Sequence[tuple[NamespaceId, bytes]]) -> set[NamespaceId]:
        """Create ``items`` one depth level at a time, so a parent is always written
        before its children; return those that existed."""
        existed: set[NamespaceId] = set()
        for depth in sorted({ns.depth for ns, _ in items}):
            level = [(ns, raw) for ns, raw in items if ns.depth == depth]
            flags = self._create_level(level)
            existed |= {ns for (ns, _), was in zip(level, flags, strict=True) if was}
        return existed

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Overwrite the metadata of ``ns`` atomically.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the stored marker is corrupt.
            RemoteError: If a remote backend fails.
        """
        self.modify(ns, lambda _current: metadata)

    def list_namespaces(self, prefix: NamespaceId | None = None) -> list[NamespaceId]:
        """Every namespace under ``prefix`` (included), in tree order.

        Raises:
            RemoteError: If a remote backend fails.
        """
        return self._scan(prefix).namespaces

    def list_tree(self, prefix: NamespaceId | None = None, *, sizes: bool = False) -> TreeListing:
        """The namespaces under ``prefix`` (included) and the datasets in them, from
        one listing (with ``sizes``, each dataset's total size from the same one).
        Dataset folders whose path is not a valid dataset id are skipped with one
        :class:`~minari_namespaces.errors.SkippedEntryWarning`.

        Raises:
            RemoteError: If a remote backend fails.
        """
        scan = self._scan(prefix, sizes=sizes)
        ids = dataset_ids_of(scan.datasets, self.url)
        found = {
            dataset: scan.sizes[dataset.parts] for dataset in ids if dataset.parts in scan.sizes
        }
        return TreeListing(scan.namespaces, ids, found)

    def list_datasets(self, prefix: NamespaceId | None = None) -> list[DatasetId]:
        """Every dataset in ``prefix`` or below it (matched by segments), sorted.

        Raises:
            RemoteError: If a remote backend fails.
        """
        return self.list_tree(prefix).datasets

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
            shown, more = first_few(clashes, _SHOWN)
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
            shown, more = first_few(unsafe, _SHOWN)
            raise UnsafeDatasetFileError(
                f"Refused to write dataset '{dataset}' into {self.url}: "
                f"{', '.join(map(repr, shown))}{more} would land outside its folder. "
                "Nothing of this dataset was written."
            )
        return self._write_dataset(
            dataset, DatasetWrite(files, source, replace, run, on_bytes, jobs)
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

    def children(self, ns: NamespaceId | None = None) -> list[NamespaceId]:
        """The namespaces directly inside ``ns`` (top level for ``None``), sorted.

        Raises:
            RemoteError: If a remote backend fails.
        """
        depth = 1 if ns is None else ns.depth + 1
        return [child for child in self.list_namespaces(ns) if child.depth == depth]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
