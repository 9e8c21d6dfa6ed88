"""The driver contract: what a backend implements for the fsspec repository.

:class:`~minari_namespaces.stores.fsspec.FsspecNamespaceRepository` owns the
layout and the rules; a driver owns the object I/O of one kind of backend, its
caches and its root. The repository picks a driver class from
:data:`~minari_namespaces.stores.fsspec.DRIVERS` by protocol, so a new backend is
one module with one :class:`Driver` subclass and one row in that table.

Paths are the backend's paths without the protocol, below :attr:`Driver.root`
(``bucket/prefix/a/namespace_metadata.json``). A subclass implements the abstract
primitives; everything else has a default that follows from them and may be
overridden to do the same with fewer requests. Backend errors propagate as they
are (the repository turns them into
:class:`~minari_namespaces.errors.RemoteError`), except for the two outcomes the
contract names: ``FileExistsError`` from a create and :class:`ConflictError` from
a conditional write.

Two rules hold for every method:

- **Caches are the driver's own.** A driver that caches listings clears what its
  writes change, and lists fresh, so its own writes are always visible and
  another process's are seen on the next call; the repository never does it.
- **A lost answer is a success.** A write whose answer was lost (the backend
  applied it, then the client saw a failure, or its own resend was refused) is
  the caller's success, never "exists", a conflict or a second write.

The generic fsspec drivers live in :mod:`~minari_namespaces.stores.drivers.fsspec_driver`;
the Hugging Face Hub's, which is no fsspec filesystem, in
:mod:`~minari_namespaces.stores.drivers.hub`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, BinaryIO, ClassVar, Final

from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetWrite,
)
from minari_namespaces.stores.base import create_each
from minari_namespaces.stores.drivers.retry import RetryPolicy

__all__ = ["MISSING", "ConflictError", "Driver", "Missing", "Read"]


class Missing:
    """The type of :data:`MISSING`: an object that is not there."""

    def __repr__(self) -> str:
        return "MISSING"


#: What a read returns for an absent object.
MISSING: Final = Missing()
#: A versioned read: the bytes (or :data:`MISSING`) and the version token.
Read = tuple[bytes | Missing, Any]


class ConflictError(Exception):
    """A conditional write lost against another writer; read again and retry."""


class Driver(ABC):
    """The object I/O of one kind of backend, under one root.

    Args:
        root: The store's root path, without the protocol (``bucket/prefix``).
        retry: How long a write keeps retrying a throttled or failed request.
    """

    #: The pip extra that installs the backend's package (``pip install
    #: 'minari-namespaces[EXTRA]'``), named in the error when it is missing;
    #: ``None`` where the package comes with the library.
    extra: ClassVar[str | None] = None
    #: Whether :meth:`write_if` is a real compare-and-swap across processes; if
    #: not, it writes unconditionally and :meth:`exclusive` serialises writers.
    compare_and_swap: ClassVar[bool] = False
    #: Whether :meth:`create_all` takes a whole batch, parents with children, and
    #: writes it atomically (the Hub: one commit per repository); if not, the
    #: repository hands it one depth level at a time.
    atomic_batches: ClassVar[bool] = False
    #: Keys the backend maintains itself in top-level metadata (the Hub's
    #: ``namespaces`` registry): the repository's ``get`` leaves them out.
    registry_keys: ClassVar[frozenset[str]] = frozenset()
    #: Whether a dataset appears by renaming a staged folder into place
    #: (``file://``), so that a ``data`` folder marks a whole dataset; if not, its
    #: ``data/metadata.json`` does, written last (object stores).
    staged_datasets: ClassVar[bool] = False
    #: Whether :meth:`find` lists the files inside dataset folders; if not (``file://``
    #: stops at a dataset's ``data`` folder), a dataset's size comes from
    #: :meth:`stat_files` of its folder, on local disk.
    lists_dataset_files: ClassVar[bool] = True
    #: Whether the store keeps a transfer's bookkeeping files (the Hub does not:
    #: each would be a commit; its listing carries every file's hash instead).
    keeps_records: ClassVar[bool] = True
    #: Whether a dataset's files open without waiting on the network: the driver
    #: reads them ahead (:meth:`read_ahead`) or they lie on local disk. A target
    #: then copies many in one task; if not, each file is a task of its own.
    reads_ahead: ClassVar[bool] = False

    def __init__(self, root: str, *, retry: RetryPolicy | None = None) -> None:
        #: The store's root path: every path the driver is given lies under it.
        self.root = root
        #: How long a write keeps retrying a throttled or failed request.
        self.retry = retry if retry is not None else RetryPolicy()
        self._lock = threading.RLock()

    @classmethod
    @abstractmethod
    def connect(cls, url: str, options: dict[str, Any]) -> tuple[Driver, str]:
        """Open the store at ``url``: the driver, and the URL to show for it.

        Takes the storage option ``retry_deadline`` into :attr:`retry`
        (:meth:`~minari_namespaces.stores.drivers.retry.RetryPolicy.from_options`).

        Raises:
            ImportError: If the backend's package is not installed.
            ValueError: If the URL or an option is not understood.
        """

    @property
    @abstractmethod
    def client(self) -> Any:
        """The backend client the driver talks through (an fsspec filesystem, or
        ``huggingface_hub.HfApi``)."""

    # -- primitives ----------------------------------------------------------

    @abstractmethod
    def read(self, path: str) -> bytes | Missing:
        """The bytes of the object at ``path``, at most ``MAX_METADATA_BYTES + 1``
        of them (an oversized object is refused without being downloaded), or
        :data:`MISSING`. Never follows a link, never blocks on something that is
        not a regular object."""

    @abstractmethod
    def create(self, path: str, payload: bytes) -> None:
        """Write ``path`` only if it is absent, as one atomic step decided by the
        backend, so of racing creators exactly one wins.

        Raises:
            FileExistsError: If the object exists.
        """

    @abstractmethod
    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        """Overwrite ``path`` only if its version is still ``version`` (from
        :meth:`read_versioned`); unconditionally where :attr:`compare_and_swap`
        is false.

        Raises:
            ConflictError: If another writer changed the object; read again.
        """

    @abstractmethod
    def remove(self, paths: Sequence[str], folder: str) -> None:
        """Delete ``paths``, objects directly inside ``folder``, the marker last."""

    @abstractmethod
    def find(self, path: str) -> dict[str, int]:
        """Every object under the folder ``path``, recursively, with its size in
        bytes as the listing gives it, with as few requests as the backend allows;
        empty if the folder is missing. A failing listing raises: it is never
        mistaken for an empty folder."""

    @abstractmethod
    def names(self, folder: str) -> list[str]:
        """The names directly inside ``folder`` (objects and sub-folders)."""

    # -- derived, overridable ------------------------------------------------

    def read_versioned(self, path: str) -> Read:
        """:meth:`read` with the version token taken in the same request (an ETag,
        a generation, a commit id; ``None`` where the backend has none)."""
        return self.read(path), None

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes | Missing]:
        """:meth:`read` of each path (concurrently, where a driver can)."""
        return {path: self.read(path) for path in paths}

    def create_all(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """:meth:`create` of each item; ``True`` where the object existed. Every
        write has finished (or failed) when this returns or raises."""
        return create_each(items, self.create)

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        """Guard a read-modify-write of ``path``: nothing is needed on a
        compare-and-swap backend; elsewhere a lock within this process (a driver
        that can lock across processes, as ``file://``'s, does)."""
        if self.compare_and_swap:
            yield
            return
        with self._lock:
            yield

    def any_under(self, path: str) -> bool:
        """Whether anything lies at or under ``path``."""
        if self.names(path):
            return True
        return not isinstance(self.read(path), Missing)

    # -- dataset files (a driver that cannot copy datasets says so) -------------

    def stat_files(self, folder: str) -> tuple[list[DatasetFile], list[str]]:
        """Every file under ``folder`` with its size, version token and MD5 (where
        the backend keeps one), relative to ``folder``, from one listing; and the
        entries never copied (links, keys that would land outside ``folder``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot list dataset files yet")

    def open_file(self, path: str) -> AbstractContextManager[BinaryIO]:
        """Open the object at ``path`` for streaming reads.

        Raises:
            FileNotFoundError: If it is missing.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot read dataset files yet")

    def read_ahead(
        self, folder: str, files: Sequence[DatasetFile], jobs: int
    ) -> AbstractContextManager[Callable[[DatasetFile], AbstractContextManager[BinaryIO]]]:
        """Opens ``files`` of the dataset ``folder`` for one transfer: here each by
        :meth:`open_file` when asked; an asynchronous driver reads the small ones
        ahead, ``jobs`` at once, in the order given."""
        return nullcontext(lambda file: self.open_file(f"{folder}/{file.path}"))

    def write_dataset(self, folder: str, write: DatasetWrite, where: str) -> list[CopiedFile]:
        """Write the dataset ``folder`` with exactly ``write.files``, whole or not at
        all for listings (a Hub driver: one commit); ``where`` names it in errors.

        Raises:
            FileExistsError: If the dataset is there and ``replace`` is false.
            CopyVerificationError: If a copy differs from its source (removed).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot write dataset files yet")

    def remove_leftovers(self, folders: Sequence[str]) -> None:
        """Remove what interrupted dataset writes left in ``folders`` that no live
        writer holds; nothing where an interrupted write is invisible and the next
        write of that dataset cleans it up (object stores, the Hub)."""
        return None

    def begin_batch(self) -> bool:
        """Start gathering writes to commit together at :meth:`end_batch` (the Hub);
        ``False`` if the backend does not gather (every write lands at once) or a
        batch is open already."""
        return False

    def end_batch(self, *, commit: bool) -> None:
        """Commit what the batch gathered (if ``commit``) and close it.

        Raises:
            FileExistsError: If a dataset written without ``replace`` appeared meanwhile.
        """
        return None  # nothing is gathered: every write landed when it was made

    def put(self, path: str, payload: bytes) -> None:
        """Write the small object ``path`` unconditionally and atomically."""
        raise NotImplementedError(f"{type(self).__name__} cannot keep transfer records yet")

    def repo_name_problem(self, top: str) -> str | None:
        """Why a top-level namespace named ``top`` cannot be stored (the Hub's
        repository-name rule), or ``None``: it is refused before anything is
        written."""
        return None
