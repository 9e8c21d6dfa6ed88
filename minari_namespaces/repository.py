"""The ``NamespaceRepository`` protocol and :func:`open_repository`.

A repository is a store of namespaces and nothing more: it knows no hierarchy
policy (the service creates parents) and moves nothing between stores. Every
implementation passes the same contract suite
(:mod:`minari_namespaces.testing.contract`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Final, Protocol, runtime_checkable

from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetReader,
    FileSource,
    Runner,
)
from minari_namespaces.datasets import DatasetEntry, DatasetId, TreeListing
from minari_namespaces.errors import NamespaceExistsError
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import MetadataChange, NamespaceMetadata

__all__ = ["NamespaceRepository", "open_repository"]

#: The environment variable that names the remote store, as in Minari.
REMOTE_VARIABLE: Final = "MINARI_REMOTE"


def remote_from_environment() -> str | None:
    """The remote URL that ``$MINARI_REMOTE`` gives, read now; ``None`` when it is
    unset or empty. The one reader of the variable: the service, the command line
    and :mod:`~minari_namespaces.compat` (which then falls back to Minari's default)
    all ask here."""
    return os.environ.get(REMOTE_VARIABLE) or None


@runtime_checkable
class NamespaceRepository(Protocol):
    """A store of namespaces: ``<ns>/namespace_metadata.json`` under some root.

    Implementations match this protocol structurally; no inheritance is needed.
    """

    @property
    def url(self) -> str:
        """Where the store lives, without credentials."""
        ...

    def exists(self, ns: NamespaceId) -> bool:
        """Whether ``ns`` exists (its marker is present).

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def get(self, ns: NamespaceId) -> NamespaceMetadata:
        """Read the metadata of ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the stored object is not a JSON object of
                at most 1 MiB.
            RemoteError: If the backend fails.
        """
        ...

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        """Read several namespaces in one batch; missing ones are left out.

        Raises:
            CorruptMetadataError: If a stored object is corrupt.
            RemoteError: If the backend fails.
        """
        ...

    def create(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Create ``ns`` atomically; of two racing creators exactly one wins.

        Raises:
            NamespaceExistsError: If ``ns`` already exists.
            NamespaceConflictError: If a dataset, a file, a link or a case-only
                twin holds the path.
            RemoteError: If the backend fails.
        """
        ...

    def create_many(
        self, items: Iterable[tuple[NamespaceId, NamespaceMetadata]]
    ) -> list[NamespaceId]:
        """Create each namespace in the given order (parents first), create-only.

        A namespace that already exists is left as it is and returned. Remote
        stores check every conflict in one listing before writing anything.

        Returns:
            The namespaces that already existed.

        Raises:
            NamespaceConflictError: If a dataset, a file, a link or a case-only
                twin holds a path; namespaces created before it stay.
            RemoteError: If the backend fails.
        """
        ...

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Overwrite the metadata of ``ns`` atomically.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            RemoteError: If the backend fails.
        """
        ...

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Read, change and write the metadata of ``ns`` without losing a
        concurrent writer's update, and return what was written.

        ``change`` may be called more than once (on a conflict the read is
        repeated), so it must not have side effects.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the stored object is corrupt.
            RemoteError: If the backend fails.
        """
        ...

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            NamespaceNotEmptyError: If it still holds namespaces, datasets or
                other files.
            RemoteError: If the backend fails.
        """
        ...

    def list_namespaces(self, prefix: NamespaceId | None = None) -> list[NamespaceId]:
        """Every namespace in the subtree of ``prefix`` (``prefix`` included),
        or in the whole store, sorted in tree order.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def children(self, ns: NamespaceId | None = None) -> list[NamespaceId]:
        """The namespaces directly inside ``ns`` (top level for ``None``), sorted.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset folder lies directly inside ``ns``.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def list_tree(self, prefix: NamespaceId | None = None, *, sizes: bool = False) -> TreeListing:
        """The namespaces under ``prefix`` (included) and the datasets in them,
        from the one listing that :meth:`list_namespaces` makes; with ``sizes``,
        each dataset's total size in bytes from that same listing, where it shows
        it (no request more; locally the walk also visits the datasets' files).

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def list_datasets(self, prefix: NamespaceId | None = None) -> list[DatasetId]:
        """Every dataset in ``prefix`` or below it (by segments), sorted; no
        request more than :meth:`list_namespaces` makes.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def read_datasets(self, ids: Iterable[DatasetId]) -> list[DatasetEntry]:
        """The ``data/metadata.json`` of each dataset, in one batch; a missing or
        corrupt file is that entry's ``error``, never an exception.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    # -- dataset files, for transfers ----------------------------------------

    def dataset_files(
        self, ids: Iterable[DatasetId], *, strict: bool = True
    ) -> dict[DatasetId, list[DatasetFile]]:
        """The files of each (whole) dataset of ``ids`` the store holds, from one
        listing; with ``strict``, links, FIFOs, devices and keys outside a dataset
        folder are refused (else listed with size ``-1``).

        Raises:
            UnsafeDatasetFileError: If ``strict`` and a dataset holds such an entry.
            RemoteError: If the backend fails.
        """
        ...

    def open_dataset_file(
        self, dataset: DatasetId, file: DatasetFile
    ) -> AbstractContextManager[BinaryIO]:
        """Open one file of ``dataset`` for streaming reads, following no link.

        Raises:
            FileNotFoundError: If it is gone.
            RemoteError: If the backend fails.
        """
        ...

    def open_dataset(
        self, dataset: DatasetId, files: Sequence[DatasetFile] = (), *, jobs: int = 1
    ) -> AbstractContextManager[DatasetReader]:
        """Open ``dataset`` for reading its files: an opener of one file at a time,
        valid inside the block (a local store opens the folder once for all; an
        asynchronous object store reads the small ones of ``files`` ahead, in their
        order, ``jobs`` at once), and whether its opens wait on the network.

        Raises:
            FileNotFoundError: If the dataset is gone (or, from the opener, a file).
            RemoteError: If the backend fails.
        """
        ...

    def write_dataset(
        self,
        dataset: DatasetId,
        files: Sequence[DatasetFile],
        source: FileSource,
        *,
        replace: bool = False,
        run: Runner = ...,
        on_bytes: Callable[[int], None] | None = None,
        jobs: int = 1,
        reads_ahead: bool = False,
    ) -> list[CopiedFile]:
        """Write ``dataset`` with exactly ``files`` (read through ``source``), whole
        or not at all for every listing, each file checked before it appears; many
        files in one copy task only where ``source`` ``reads_ahead``
        (:attr:`DatasetReader.reads_ahead`), else one task per file.

        Raises:
            UnsafeDatasetFileError: If a path would land outside the dataset folder.
            CopyVerificationError: If a copy differs from its source (not kept).
            NamespaceConflictError: If it appeared meanwhile and not ``replace``.
            RemoteError: If the backend fails.
        """
        ...

    def remove_leftovers(self, datasets: Iterable[DatasetId]) -> None:
        """Remove what interrupted dataset writes left beside ``datasets`` (in the
        namespace folders that hold them), except what a live writer still holds.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    @property
    def keeps_records(self) -> bool:
        """Whether the store keeps a transfer's bookkeeping files (not the Hub: a
        transfer to it keeps its record in the source)."""
        ...

    def write_batch(self) -> AbstractContextManager[None]:
        """A block whose writes the store may commit together at its end (the Hub:
        one commit per repository); other stores write each at once.

        Raises:
            NamespaceConflictError: If a dataset written without ``replace``
                appeared meanwhile.
            RemoteError: If the backend fails.
        """
        ...

    def read_record(self, name: str) -> bytes | None:
        """A transfer's bookkeeping file from the store's hidden
        ``.minari-namespaces`` folder, or ``None``.

        Raises:
            RemoteError: If the backend fails.
        """
        ...

    def write_record(self, name: str, payload: bytes) -> None:
        """Write a bookkeeping file to the hidden ``.minari-namespaces`` folder.

        Raises:
            RemoteError: If the backend fails.
        """
        ...


def open_repository(
    target: str | os.PathLike[str] | None = None, **storage_options: Any
) -> NamespaceRepository:
    """Open the store at ``target``.

    ``None`` or a plain path gives a :class:`LocalNamespaceRepository` (``None``
    means ``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets``); a URL with a
    protocol (``file://``, ``memory://``, ``s3://``, ``gs://``, ...) gives a
    :class:`FsspecNamespaceRepository`; Minari's ``gcp://bucket`` means
    ``gs://bucket``. Both read and write the same layout.

    Args:
        target: A path, a URL, or ``None``.
        **storage_options: Passed to the fsspec filesystem (credentials, endpoint).

    Raises:
        ValueError: If ``storage_options`` are given for a plain path.
        RemoteError: If the URL's backend cannot be loaded.
    """
    from minari_namespaces.stores.local import LocalNamespaceRepository

    if target is None or isinstance(target, os.PathLike) or "://" not in target:
        if storage_options:
            raise ValueError(
                "storage options only apply to URLs such as 's3://bucket/prefix'; "
                f"got a local path and options {sorted(storage_options)}"
            )
        return LocalNamespaceRepository(target)
    from minari_namespaces.stores.fsspec import FsspecNamespaceRepository

    if target.startswith("gcp://"):
        # Minari's spelling of a GCS bucket remote.
        target = "gs://" + target[len("gcp://") :]
    return FsspecNamespaceRepository(target, **storage_options)


def open_repositories(
    local: str | os.PathLike[str] | None, remote: str | None, storage_options: dict[str, Any]
) -> tuple[NamespaceRepository, NamespaceRepository | None]:
    """The local store and the remote one (``$MINARI_REMOTE`` when ``remote`` is
    ``None``; no remote if that is unset too), opened by path or URL.

    Raises:
        ValueError: If ``storage_options`` are given without a remote.
        RemoteError: If the remote's backend cannot be loaded.
    """
    remote_url = remote if remote is not None else remote_from_environment()
    if remote_url is None and storage_options:
        raise ValueError(
            f"storage options {sorted(storage_options)} were given but there is no "
            "remote: pass remote=... or set MINARI_REMOTE."
        )
    remote_repository = (
        open_repository(remote_url, **storage_options) if remote_url is not None else None
    )
    return open_repository(local), remote_repository


def create_with_ancestors(
    store: NamespaceRepository, ns: NamespaceId, metadata: NamespaceMetadata, *, exist_ok: bool
) -> None:
    """Create ``ns`` in ``store`` after every missing ancestor (with ``{}``): the
    hierarchy policy. An ancestor that someone else creates meanwhile is fine.

    Raises:
        NamespaceExistsError: If ``ns`` exists and ``exist_ok`` is false.
    """
    empty = NamespaceMetadata()
    for ancestor in ns.ancestors():
        if not store.exists(ancestor):
            with contextlib.suppress(NamespaceExistsError):
                store.create(ancestor, empty)
    try:
        store.create(ns, metadata)
    except NamespaceExistsError:
        if not exist_ok:
            raise
