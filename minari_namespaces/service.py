"""``NamespaceService``: the use cases, over any two repositories.

The service owns the hierarchy policy (a namespace's ancestors exist before it
does, on every side) and the transfers between a local and a remote store. It
takes its repositories as arguments and never imports an adapter: wiring by URL
happens in :meth:`NamespaceService.from_urls` through
:func:`~minari_namespaces.repository.open_repository`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace as with_fields
from typing import Any

from minari_namespaces.catalog import Catalog, read_catalog
from minari_namespaces.datasets import (
    DatasetEntry,
    DatasetId,
    DatasetName,
    TreeListing,
    latest_versions,
)
from minari_namespaces.errors import RemoteNotConfiguredError
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import (
    NamespaceMetadata,
    PropertiesUpdate,
    PropertiesUpdateSummary,
    described,
)
from minari_namespaces.repository import (
    NamespaceRepository,
    create_with_ancestors,
    open_repositories,
)
from minari_namespaces.transfer import ProgressCallback, Transfer, TransferProgress, TransferReport
from minari_namespaces.transfer.diff import NamespaceDiff, compare

__all__ = [
    "NamespaceDiff",
    "NamespaceService",
    "PropertiesUpdateSummary",
    "TransferProgress",
    "TransferReport",
]

NamespaceLike = str | NamespaceId


def _optional_id(ns: NamespaceLike | None) -> NamespaceId | None:
    return None if ns is None else NamespaceId.parse(ns)


class NamespaceService:
    """Create, read, change, list and transfer namespaces.

    Every method accepts a ``str`` or a :class:`NamespaceId` and converts it once.

    Args:
        local: The local store (usually a ``LocalNamespaceRepository``).
        remote: The remote store, or ``None`` for local use only.
    """

    def __init__(self, local: NamespaceRepository, remote: NamespaceRepository | None = None):
        self._local = local
        self._remote = remote

    @classmethod
    def from_urls(
        cls,
        local: str | os.PathLike[str] | None = None,
        remote: str | None = None,
        **storage_options: Any,
    ) -> NamespaceService:
        """Open both stores by path or URL.

        Args:
            local: The local store; ``None`` means ``$MINARI_DATASETS_PATH``, else
                ``~/.minari/datasets``. A URL opens an fsspec store instead.
            remote: The remote URL; ``None`` means ``$MINARI_REMOTE`` when set,
                else no remote.
            **storage_options: Passed to the remote's fsspec filesystem.

        Raises:
            ValueError: If ``storage_options`` are given without a remote.
            RemoteError: If the remote's backend cannot be loaded.
        """
        return cls(*open_repositories(local, remote, storage_options))

    @property
    def local(self) -> NamespaceRepository:
        """The local store."""
        return self._local

    @property
    def remote(self) -> NamespaceRepository:
        """The remote store.

        Raises:
            RemoteNotConfiguredError: If the service has no remote.
        """
        if self._remote is None:
            raise RemoteNotConfiguredError(
                "This NamespaceService has no remote. Pass remote=... or set MINARI_REMOTE "
                "to a URL such as 's3://bucket/prefix', 'gs://bucket' or 'file:///path'."
            )
        return self._remote

    def __repr__(self) -> str:
        remote = "None" if self._remote is None else repr(self._remote)
        return f"NamespaceService(local={self._local!r}, remote={remote})"

    # -- local use cases ---------------------------------------------------

    def create(
        self,
        ns: NamespaceLike,
        /,
        description: str | None = None,
        *,
        metadata: NamespaceMetadata | Mapping[str, Any] | None = None,
        exist_ok: bool = False,
    ) -> NamespaceId:
        """Create ``ns`` locally, and every missing ancestor (with ``{}``) first.

        Metadata is validated before anything is written. An ancestor that
        someone else creates meanwhile is fine. With ``exist_ok``, an existing
        ``ns`` is left as it is.

        Args:
            ns: The namespace to create.
            description: Its description, if any.
            metadata: Further metadata keys, with JSON values: a mapping, so any
                key is allowed (``exist_ok`` and ``ns`` included).
            exist_ok: Do not fail if ``ns`` exists already.

        Returns:
            The created namespace's id.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            InvalidMetadataError: If the metadata is not strict JSON or over 1 MiB.
            NamespaceExistsError: If ``ns`` exists and ``exist_ok`` is false.
            NamespaceConflictError: If a dataset, a file or a case-only twin
                holds its path.
        """
        target = NamespaceId.parse(ns)
        data = described(description, metadata)
        create_with_ancestors(self._local, target, data, exist_ok=exist_ok)
        return target

    def get(self, ns: NamespaceLike, *, remote: bool = False) -> NamespaceMetadata:
        """Read the metadata of ``ns`` (from the remote store if ``remote``).

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist there.
            CorruptMetadataError: If its metadata is corrupt.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return self._store(remote).get(NamespaceId.parse(ns))

    def exists(self, ns: NamespaceLike, *, remote: bool = False) -> bool:
        """Whether ``ns`` exists locally (or on the remote store if ``remote``).

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return self._store(remote).exists(NamespaceId.parse(ns))

    def has_datasets(self, ns: NamespaceLike, *, remote: bool = False) -> bool:
        """Whether a dataset lies directly inside ``ns`` (locally, or on the remote
        store if ``remote``): such a namespace cannot be deleted.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return self._store(remote).has_datasets(NamespaceId.parse(ns))

    def _store(self, remote: bool) -> NamespaceRepository:
        return self.remote if remote else self._local

    def replace(self, ns: NamespaceLike, metadata: NamespaceMetadata | Mapping[str, Any]) -> None:
        """Replace the whole metadata of ``ns`` with ``metadata``, kept exactly:
        keys that ``metadata`` lacks are gone afterwards (as Minari's
        ``update_namespace_metadata``). To change some keys and keep the others,
        use :meth:`update_properties`.

        Args:
            ns: The namespace to change.
            metadata: The new metadata, the whole of it.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            InvalidMetadataError: If ``metadata`` is not strict JSON or over 1 MiB.
            NamespaceNotFoundError: If ``ns`` does not exist locally.
        """
        target = NamespaceId.parse(ns)
        self._local.replace(target, NamespaceMetadata.from_dict(metadata))

    def update_properties(
        self,
        ns: NamespaceLike,
        updates: Mapping[str, Any] | None = None,
        removals: Iterable[str] | None = None,
    ) -> PropertiesUpdateSummary:
        """Set some keys and remove others, keeping the rest (a merge; to replace
        the whole metadata, use :meth:`replace`).

        The read-modify-write is atomic against other writers (a folder lock
        locally, a compare-and-swap on stores that offer one): no concurrent
        update is lost.

        Args:
            ns: The namespace to change.
            updates: Keys to set, with JSON values.
            removals: Keys to remove.

        Returns:
            Which keys were updated, removed, and asked to be removed but missing.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            InvalidMetadataError: If a key is both updated and removed, or the
                result is not strict JSON or over 1 MiB.
            NamespaceNotFoundError: If ``ns`` does not exist locally.
            CorruptMetadataError: If its file is corrupt.
        """
        update = PropertiesUpdate(NamespaceId.parse(ns), updates, removals)
        self._local.modify(update.namespace, update.apply)
        return update.summary

    def delete(self, ns: NamespaceLike) -> None:
        """Delete the empty local namespace ``ns``.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist locally.
            NamespaceNotEmptyError: If it holds child namespaces or datasets.
        """
        self._local.delete(NamespaceId.parse(ns))

    def list_local(self, prefix: NamespaceLike | None = None) -> list[NamespaceId]:
        """Local namespaces under ``prefix`` (included), in tree order.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
        """
        return self._local.list_namespaces(_optional_id(prefix))

    def list_remote(self, prefix: NamespaceLike | None = None) -> list[NamespaceId]:
        """Remote namespaces under ``prefix`` (included), in tree order.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        return self.remote.list_namespaces(_optional_id(prefix))

    def children(
        self, ns: NamespaceLike | None = None, *, remote: bool = False
    ) -> list[NamespaceId]:
        """The namespaces directly inside ``ns`` (top level for ``None``).

        Args:
            ns: The parent namespace, or ``None`` for the top level.
            remote: Ask the remote store instead of the local one.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
        """
        return self._store(remote).children(_optional_id(ns))

    # -- datasets ----------------------------------------------------------

    def list_datasets(
        self,
        prefix: NamespaceLike | None = None,
        *,
        remote: bool = False,
        latest: bool = False,
        metadata: bool = False,
        sizes: bool = False,
    ) -> list[DatasetEntry]:
        """The datasets in ``prefix`` or below it, locally (or on the remote store
        if ``remote``), sorted by namespace in tree order, name and version.

        ``prefix`` is a namespace and matches by segments: ``D4RL/door`` holds
        ``D4RL/door/human-v2`` but not ``D4RL/door-x/play-v0``. The datasets come
        from the same single listing that finds namespaces; with ``metadata``,
        their ``data/metadata.json`` files follow in one concurrent batch (only
        those of the versions kept, with ``latest``).

        Args:
            prefix: The namespace to look in; ``None`` for the whole store.
            remote: Ask the remote store instead of the local one.
            latest: Keep only the highest version of each name in each namespace.
            metadata: Read each dataset's ``data/metadata.json``; a missing or
                corrupt one is that entry's ``error``, the others are unaffected.
            sizes: Fill each entry's ``size`` (its files' total bytes) from the same
                listing: no request more (locally, the walk also visits each
                dataset's files).

        Returns:
            One :class:`~minari_namespaces.datasets.DatasetEntry` per dataset.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        store = self._store(remote)
        listing = store.list_tree(_optional_id(prefix), sizes=sizes)
        ids = latest_versions(listing.datasets) if latest else listing.datasets
        entries = store.read_datasets(ids) if metadata else [DatasetEntry(d) for d in ids]
        if not sizes:
            return entries
        return [with_fields(entry, size=listing.sizes.get(entry.id)) for entry in entries]

    def list_tree(
        self, prefix: NamespaceLike | None = None, *, remote: bool = False, sizes: bool = False
    ) -> TreeListing:
        """The namespaces under ``prefix`` (included) and the datasets in them,
        locally (or on the remote store if ``remote``), from one listing; with
        ``sizes``, each dataset's total size in bytes from that same listing.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return self._store(remote).list_tree(_optional_id(prefix), sizes=sizes)

    def catalog(
        self, prefix: NamespaceLike | None = None, *, remote: bool = False, datasets: bool = True
    ) -> Catalog:
        """The namespaces and datasets under ``prefix`` with all their metadata,
        locally (or on the remote store if ``remote``): one listing, one batched
        read of namespace metadata, one of dataset metadata (none and nothing about
        datasets without ``datasets``). Corrupt files are their entries' errors.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return read_catalog(self._store(remote), _optional_id(prefix), datasets=datasets)

    # -- transfers ---------------------------------------------------------

    def upload(
        self,
        ns: NamespaceLike,
        *,
        overwrite: bool = False,
        ancestors: bool = True,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        datasets: bool = False,
        jobs: int | None = None,
    ) -> TransferReport:
        """Copy ``ns`` and every ancestor the remote lacks to the remote, parents first.

        An ancestor the local store lacks too is created on the remote with
        ``{}``, so the remote never holds a child without its parent.

        Args:
            ns: The local namespace to upload.
            overwrite: Replace ``ns`` on the remote if it is there with different
                metadata; otherwise it is kept, with a :class:`KeptNamespacesWarning`.
            ancestors: Copy missing ancestors too (``False`` copies ``ns`` alone,
                as Minari's ``download_namespace_metadata`` does).
            dry_run: Write nothing; the report says what would be written.
            progress: Called with a :class:`TransferProgress` as the transfer goes.
            datasets: Move the datasets directly inside ``ns`` too, whole (see
                :doc:`moving-datasets`); a folder of datasets without a marker
                moves too, given ``{}`` where it lacks one, as in :meth:`upload_tree`.
            jobs: Dataset files copied at once (default 4).

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist locally (with
                ``datasets``: nor holds a dataset directly in it).
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
            UnsafeDatasetFileError, CopyVerificationError: See :meth:`upload_dataset`.
        """
        plan = Transfer(self._local, self.remote, overwrite, dry_run, progress, datasets, jobs)
        return plan.one(NamespaceId.parse(ns), ancestors=ancestors)

    def download(
        self,
        ns: NamespaceLike,
        *,
        overwrite: bool = False,
        ancestors: bool = True,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        datasets: bool = False,
        jobs: int | None = None,
    ) -> TransferReport:
        """Copy ``ns`` and every ancestor the local store lacks from the remote.

        Everything is fetched and validated before anything is written locally.

        Args:
            ns: The remote namespace to download.
            overwrite: Replace the local ``ns`` if it differs; otherwise it is
                kept, with a :class:`KeptNamespacesWarning`.
            ancestors: Copy missing ancestors too (``False`` copies ``ns`` alone).
            dry_run: Write nothing; the report says what would be written.
            progress: Called with a :class:`TransferProgress` as the transfer goes.
            datasets: Move the datasets directly inside ``ns`` too, whole (see
                :doc:`moving-datasets`); a folder of datasets without a marker
                moves too, given ``{}`` where it lacks one, as in :meth:`download_tree`.
            jobs: Dataset files copied at once (default 4).

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist on the remote (with
                ``datasets``: nor holds a dataset directly in it).
            CorruptMetadataError: If remote metadata is not a valid JSON object.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
            UnsafeDatasetFileError, CopyVerificationError: See :meth:`upload_dataset`.
        """
        plan = Transfer(self.remote, self._local, overwrite, dry_run, progress, datasets, jobs)
        return plan.one(NamespaceId.parse(ns), ancestors=ancestors)

    def upload_tree(
        self,
        prefix: NamespaceLike | None = None,
        *,
        overwrite: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        datasets: bool = False,
        jobs: int | None = None,
    ) -> TransferReport:
        """Upload every local namespace under ``prefix`` (all for ``None``).

        Batched: one listing of each side and one batched read, then writes
        parents first. Rerunning after a failure completes the transfer.
        Namespaces the remote holds with equal metadata are reported as
        ``unchanged``; different ones are kept (``skipped``, with one
        :class:`KeptNamespacesWarning`) unless ``overwrite``.

        Args:
            prefix: The subtree to upload; ``None`` for everything.
            overwrite: Replace remote namespaces whose metadata differs.
            dry_run: Write nothing; the report says what would be written.
            progress: Called with a :class:`TransferProgress` as the transfer goes;
                with it, writes go in batches of at least 1,000 namespaces.
            datasets: Move every dataset in the subtree too, whole.
            jobs: Dataset files copied at once (default 4).

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
            UnsafeDatasetFileError, CopyVerificationError: See :meth:`upload_dataset`.
        """
        plan = Transfer(self._local, self.remote, overwrite, dry_run, progress, datasets, jobs)
        return plan.tree(_optional_id(prefix))

    def download_tree(
        self,
        prefix: NamespaceLike | None = None,
        *,
        overwrite: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        datasets: bool = False,
        jobs: int | None = None,
    ) -> TransferReport:
        """Download every remote namespace under ``prefix`` (all for ``None``).

        All remote metadata is fetched and validated before anything is written.
        Reported as :meth:`upload_tree` reports.

        Args:
            prefix: The subtree to download; ``None`` for everything.
            overwrite: Replace local namespaces whose metadata differs.
            dry_run: Write nothing; the report says what would be written.
            progress: Called with a :class:`TransferProgress` as the transfer goes.
            datasets: Move every dataset in the subtree too, whole.
            jobs: Dataset files copied at once (default 4).

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            CorruptMetadataError: If remote metadata is not a valid JSON object.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
            UnsafeDatasetFileError, CopyVerificationError: See :meth:`upload_dataset`.
        """
        plan = Transfer(self.remote, self._local, overwrite, dry_run, progress, datasets, jobs)
        return plan.tree(_optional_id(prefix))

    def upload_dataset(
        self,
        dataset_id: str | DatasetId,
        *,
        overwrite: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        jobs: int | None = None,
    ) -> TransferReport:
        """Upload one dataset whole and the namespaces above it the remote lacks;
        no version (``D4RL/door/human``) means the latest. As :meth:`upload_tree`.

        Raises:
            InvalidDatasetIdError: If ``dataset_id`` is not a dataset id or name.
            DatasetNotFoundError: If the local store lacks it.
            UnsafeDatasetFileError: If a dataset holds a link, a FIFO, a device or
                a key outside its folder (nothing is written).
            CopyVerificationError: If a copy differs from its source (not kept).
            RemoteNotConfiguredError, RemoteError: As :meth:`upload`.
        """
        plan = Transfer(self._local, self.remote, overwrite, dry_run, progress, True, jobs)
        return plan.dataset(DatasetName.parse(dataset_id))

    def download_dataset(
        self,
        dataset_id: str | DatasetId,
        *,
        overwrite: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        jobs: int | None = None,
    ) -> TransferReport:
        """Download one dataset whole and the namespaces above it the local store
        lacks; no version means the latest. As :meth:`download_tree`.

        Raises:
            InvalidDatasetIdError: If ``dataset_id`` is not a dataset id or name.
            DatasetNotFoundError: If the remote lacks it.
            UnsafeDatasetFileError, CopyVerificationError: See :meth:`upload_dataset`.
            RemoteNotConfiguredError, RemoteError: As :meth:`download`.
        """
        plan = Transfer(self.remote, self._local, overwrite, dry_run, progress, True, jobs)
        return plan.dataset(DatasetName.parse(dataset_id))

    def diff(self, prefix: NamespaceLike | None = None, *, datasets: bool = False) -> NamespaceDiff:
        """Compare the local and remote subtrees under ``prefix`` (and, with
        ``datasets``, their datasets' files by size and content); writes nothing.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            CorruptMetadataError: If metadata on either side is corrupt.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        return compare(self._local, self.remote, _optional_id(prefix), datasets=datasets)
