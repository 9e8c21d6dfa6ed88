"""``NamespaceService``: the use cases, over any two repositories.

The service owns the hierarchy policy (a namespace's ancestors exist before it
does, on every side) and the transfers between a local and a remote store. It
takes its repositories as arguments and never imports an adapter: wiring by URL
happens in :meth:`NamespaceService.from_urls` through
:func:`~minari_namespaces.repository.open_repository`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from minari_namespaces.errors import (
    InvalidMetadataError,
    KeptNamespacesWarning,
    NamespaceExistsError,
    NamespaceNotFoundError,
    RemoteNotConfiguredError,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository, open_repository

__all__ = [
    "NamespaceDiff",
    "NamespaceService",
    "PropertiesUpdateSummary",
    "TransferReport",
]

NamespaceLike = str | NamespaceId
#: Called by transfers with (namespaces done, namespaces in all).
ProgressCallback = Callable[[int, int], None]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PropertiesUpdateSummary:
    """What :meth:`NamespaceService.update_properties` did.

    Attributes:
        updated: Keys that were set, sorted.
        removed: Keys that were removed, sorted.
        missing: Keys asked to be removed that were not there, sorted.
    """

    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TransferReport:
    """What an upload or a download did (or, for a dry run, would do), parents first.

    Attributes:
        source: URL of the store copied from.
        target: URL of the store copied to.
        copied: Namespaces written to the target (created, or replaced because they
            differed and ``overwrite`` was given).
        skipped: Namespaces the target already held with different metadata, kept
            because ``overwrite`` was not given.
        unchanged: Namespaces the target already held with the same metadata:
            nothing to do.
        replaced: The namespaces of ``copied`` that replaced different metadata.
        dry_run: Whether nothing was written and the lists say what would be.
    """

    source: str
    target: str
    copied: list[NamespaceId] = field(default_factory=list)
    skipped: list[NamespaceId] = field(default_factory=list)
    unchanged: list[NamespaceId] = field(default_factory=list)
    replaced: list[NamespaceId] = field(default_factory=list)
    dry_run: bool = False

    @property
    def up_to_date(self) -> bool:
        """Whether the target already held everything as the source does."""
        return not (self.copied or self.skipped)


@dataclass(frozen=True)
class NamespaceDiff:
    """A dry-run comparison of the local and the remote store.

    Attributes:
        only_local: Namespaces only the local store holds.
        only_remote: Namespaces only the remote store holds.
        different: Namespaces both hold with different metadata.
        same: Namespaces both hold with equal metadata.
    """

    only_local: list[NamespaceId] = field(default_factory=list)
    only_remote: list[NamespaceId] = field(default_factory=list)
    different: list[NamespaceId] = field(default_factory=list)
    same: list[NamespaceId] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """Whether both sides hold the same namespaces with the same metadata."""
        return not (self.only_local or self.only_remote or self.different)


def _id(ns: NamespaceLike) -> NamespaceId:
    return NamespaceId.parse(ns)


def _optional_id(ns: NamespaceLike | None) -> NamespaceId | None:
    return None if ns is None else NamespaceId.parse(ns)


def _metadata(
    description: str | None, extra: NamespaceMetadata | Mapping[str, Any] | None
) -> NamespaceMetadata:
    """``extra`` with ``description`` set, validated; the key given twice is refused."""
    data = dict(extra or {})
    if description is not None:
        if data.get("description", description) != description:
            raise InvalidMetadataError(
                "'description' is given twice (as an argument and in metadata) with "
                "different values; give it once."
            )
        data["description"] = description
    return NamespaceMetadata.from_dict(data)


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
        remote_url = remote if remote is not None else os.environ.get("MINARI_REMOTE") or None
        if remote_url is None and storage_options:
            raise ValueError(
                f"storage options {sorted(storage_options)} were given but there is no "
                "remote: pass remote=... or set MINARI_REMOTE."
            )
        remote_repository = (
            open_repository(remote_url, **storage_options) if remote_url is not None else None
        )
        return cls(open_repository(local), remote_repository)

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
        target = _id(ns)
        data = _metadata(description, metadata)
        _create_with_ancestors(self._local, target, data, exist_ok=exist_ok)
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
        return self._store(remote).get(_id(ns))

    def exists(self, ns: NamespaceLike, *, remote: bool = False) -> bool:
        """Whether ``ns`` exists locally (or on the remote store if ``remote``).

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return self._store(remote).exists(_id(ns))

    def has_datasets(self, ns: NamespaceLike, *, remote: bool = False) -> bool:
        """Whether a dataset lies directly inside ``ns`` (locally, or on the remote
        store if ``remote``): such a namespace cannot be deleted.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            RemoteNotConfiguredError: If ``remote`` and the service has no remote.
            RemoteError: If the remote fails.
        """
        return self._store(remote).has_datasets(_id(ns))

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
        target = _id(ns)
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
        target = _id(ns)
        to_set = dict(updates or {})
        to_remove = list(dict.fromkeys(removals or ()))
        overlap = sorted(set(to_set) & set(to_remove))
        if overlap:
            raise InvalidMetadataError(
                f"Keys {overlap} are both updated and removed for namespace '{target}'; "
                "ask for one or the other."
            )
        NamespaceMetadata.from_dict(to_set)
        outcome: list[PropertiesUpdateSummary] = []

        def change(current: NamespaceMetadata) -> NamespaceMetadata:
            present = [key for key in to_remove if key in current]
            outcome.append(
                PropertiesUpdateSummary(
                    updated=sorted(to_set),
                    removed=sorted(present),
                    missing=sorted(key for key in to_remove if key not in current),
                )
            )
            return current.merged(to_set, present)

        self._local.modify(target, change)
        return outcome[-1]

    def delete(self, ns: NamespaceLike) -> None:
        """Delete the empty local namespace ``ns``.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist locally.
            NamespaceNotEmptyError: If it holds child namespaces or datasets.
        """
        self._local.delete(_id(ns))

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

    # -- transfers ---------------------------------------------------------

    def upload(
        self,
        ns: NamespaceLike,
        *,
        overwrite: bool = False,
        ancestors: bool = True,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
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
            progress: Called with (namespaces done, namespaces in all) before the
                first write and after each batch of writes.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist locally.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        plan = _Transfer(self._local, self.remote, overwrite, dry_run, progress)
        return plan.one(_id(ns), ancestors=ancestors)

    def download(
        self,
        ns: NamespaceLike,
        *,
        overwrite: bool = False,
        ancestors: bool = True,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> TransferReport:
        """Copy ``ns`` and every ancestor the local store lacks from the remote.

        Everything is fetched and validated before anything is written locally.

        Args:
            ns: The remote namespace to download.
            overwrite: Replace the local ``ns`` if it differs; otherwise it is
                kept, with a :class:`KeptNamespacesWarning`.
            ancestors: Copy missing ancestors too (``False`` copies ``ns`` alone).
            dry_run: Write nothing; the report says what would be written.
            progress: Called with (namespaces done, namespaces in all) before the
                first write and after each batch of writes.

        Raises:
            InvalidNamespaceError: If ``ns`` is not a valid id.
            NamespaceNotFoundError: If ``ns`` does not exist on the remote.
            CorruptMetadataError: If remote metadata is not a valid JSON object.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        plan = _Transfer(self.remote, self._local, overwrite, dry_run, progress)
        return plan.one(_id(ns), ancestors=ancestors)

    def upload_tree(
        self,
        prefix: NamespaceLike | None = None,
        *,
        overwrite: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
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
            progress: Called with (namespaces done, namespaces in all) before the
                first write and after each batch; with it, writes go in batches of
                at least 1,000 namespaces so that there is progress to report.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        plan = _Transfer(self._local, self.remote, overwrite, dry_run, progress)
        return plan.tree(_optional_id(prefix))

    def download_tree(
        self,
        prefix: NamespaceLike | None = None,
        *,
        overwrite: bool = False,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> TransferReport:
        """Download every remote namespace under ``prefix`` (all for ``None``).

        All remote metadata is fetched and validated before anything is written.
        Reported as :meth:`upload_tree` reports.

        Args:
            prefix: The subtree to download; ``None`` for everything.
            overwrite: Replace local namespaces whose metadata differs.
            dry_run: Write nothing; the report says what would be written.
            progress: Called with (namespaces done, namespaces in all) before the
                first write and after each batch of writes.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            CorruptMetadataError: If remote metadata is not a valid JSON object.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        plan = _Transfer(self.remote, self._local, overwrite, dry_run, progress)
        return plan.tree(_optional_id(prefix))

    def diff(self, prefix: NamespaceLike | None = None) -> NamespaceDiff:
        """Compare the local and remote subtrees under ``prefix``; writes nothing.

        Raises:
            InvalidNamespaceError: If ``prefix`` is not a valid id.
            CorruptMetadataError: If metadata on either side is corrupt.
            RemoteNotConfiguredError: If the service has no remote.
            RemoteError: If the remote fails.
        """
        start = _optional_id(prefix)
        remote = self.remote
        local_ids = set(self._local.list_namespaces(start))
        remote_ids = set(remote.list_namespaces(start))
        common = sorted(local_ids & remote_ids)
        local_data = self._local.get_many(common)
        remote_data = remote.get_many(common)
        different = [ns for ns in common if local_data.get(ns) != remote_data.get(ns)]
        return NamespaceDiff(
            only_local=sorted(local_ids - remote_ids),
            only_remote=sorted(remote_ids - local_ids),
            different=different,
            same=[ns for ns in common if ns not in set(different)],
        )


def _create_with_ancestors(
    store: NamespaceRepository, ns: NamespaceId, metadata: NamespaceMetadata, *, exist_ok: bool
) -> None:
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


def _warn_kept(kept: list[NamespaceId], target: NamespaceRepository) -> None:
    shown = ", ".join(f"'{ns}'" for ns in kept[:10])
    more = f" and {len(kept) - 10} more" if len(kept) > 10 else ""
    warnings.warn(
        f"Kept {len(kept)} existing namespace(s) in {target.url} whose metadata differs "
        f"from the source: {shown}{more}. Pass overwrite=True to replace them.",
        KeptNamespacesWarning,
        stacklevel=5,
    )


#: With a progress callback, tree writes go in batches of at least this many
#: namespaces (and at most about 20 batches), so progress can be reported between them.
_PROGRESS_BATCH = 1_000


@dataclass
class _Outcome:
    copied: list[NamespaceId] = field(default_factory=list)
    skipped: list[NamespaceId] = field(default_factory=list)
    unchanged: list[NamespaceId] = field(default_factory=list)
    replaced: list[NamespaceId] = field(default_factory=list)


@dataclass
class _Transfer:
    """One transfer from ``source`` to ``target``: what to write, then writing it."""

    source: NamespaceRepository
    target: NamespaceRepository
    overwrite: bool
    dry_run: bool
    progress: ProgressCallback | None

    def one(self, ns: NamespaceId, *, ancestors: bool) -> TransferReport:
        levels = list(ns.hierarchy()) if ancestors else [ns]
        source_data = self.source.get_many(levels)
        if ns not in source_data:
            raise NamespaceNotFoundError(f"Namespace '{ns}' does not exist in {self.source.url}.")
        present = self.target.get_many(levels)
        _log.debug(
            "Read '%s' from %s; %s holds %d of its %d level(s)",
            ns,
            self.source.url,
            self.target.url,
            len(present),
            len(levels),
        )
        order = [level for level in levels if level not in present or level == ns]
        return self._run(source_data, order, {ns}, present)

    def tree(self, prefix: NamespaceId | None) -> TransferReport:
        subtree = self.source.list_namespaces(prefix)
        _log.debug(
            "Listed %d namespace(s) under %s in %s",
            len(subtree),
            f"'{prefix}'" if prefix else "the top level",
            self.source.url,
        )
        members = set(subtree)
        # Every ancestor of every member, so a gap in the source (a child without its
        # parent) becomes a parent with {} on the target, never a gap.
        order = sorted(members | {above for ns in subtree for above in ns.ancestors()})
        source_data = self.source.get_many(order)
        _log.debug("Read %d namespace(s) from %s", len(source_data), self.source.url)
        present = self._present(prefix, order) if self.dry_run else {}
        return self._run(source_data, order, members, present)

    def _present(
        self, prefix: NamespaceId | None, order: list[NamespaceId]
    ) -> dict[NamespaceId, NamespaceMetadata]:
        """The target's metadata of ``order``: one listing, then reads of those present."""
        inside = set(self.target.list_namespaces(prefix))
        above = [ns for ns in order if prefix is not None and ns.is_ancestor_of(prefix)]
        return self.target.get_many([ns for ns in order if ns in inside] + above)

    def _run(
        self,
        source_data: Mapping[NamespaceId, NamespaceMetadata],
        order: list[NamespaceId],
        members: set[NamespaceId],
        present: Mapping[NamespaceId, NamespaceMetadata],
    ) -> TransferReport:
        outcome = _Outcome()
        if self.dry_run:
            for ns in order:
                self._sort(ns, source_data, present, members, outcome)
        else:
            self._write(source_data, order, members, present, outcome)
        if outcome.skipped and not self.dry_run:
            _warn_kept(outcome.skipped, self.target)
        return _logged(
            TransferReport(
                self.source.url,
                self.target.url,
                outcome.copied,
                outcome.skipped,
                outcome.unchanged,
                outcome.replaced,
                self.dry_run,
            )
        )

    def _write(
        self,
        source_data: Mapping[NamespaceId, NamespaceMetadata],
        order: list[NamespaceId],
        members: set[NamespaceId],
        present: Mapping[NamespaceId, NamespaceMetadata],
        outcome: _Outcome,
    ) -> None:
        """Create ``order`` (parents first) on the target in batches; sort out what
        existed (reading the target's copy unless known) and replace what differs
        if asked to."""
        empty = NamespaceMetadata()
        _log.debug("Creating %d namespace(s) in %s, parents first", len(order), self.target.url)
        size = max(len(order), 1)
        if self.progress is not None:
            size = max(_PROGRESS_BATCH, -(-len(order) // 20))
            self.progress(0, len(order))
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            existed = set(self.target.create_many((ns, source_data.get(ns, empty)) for ns in batch))
            unknown = [ns for ns in batch if ns in existed and ns in members and ns not in present]
            current = {**present, **(self.target.get_many(unknown) if unknown else {})}
            for ns in batch:
                if ns not in existed:
                    outcome.copied.append(ns)
                elif ns in members and self._sort(ns, source_data, current, members, outcome):
                    _log.debug("Overwriting '%s' in %s", ns, self.target.url)
                    self.target.replace(ns, source_data.get(ns, empty))
            if self.progress is not None:
                self.progress(start + len(batch), len(order))

    def _sort(
        self,
        ns: NamespaceId,
        source_data: Mapping[NamespaceId, NamespaceMetadata],
        current: Mapping[NamespaceId, NamespaceMetadata],
        members: set[NamespaceId],
        outcome: _Outcome,
    ) -> bool:
        """File ``ns`` under what happens to it, given the target's ``current`` data;
        return whether the target's copy is to be replaced."""
        if ns not in current:
            outcome.copied.append(ns)
        elif ns not in members:
            pass  # an existing ancestor is not news
        elif current[ns] == source_data.get(ns, NamespaceMetadata()):
            outcome.unchanged.append(ns)
        elif self.overwrite:
            outcome.copied.append(ns)
            outcome.replaced.append(ns)
            return True
        else:
            if not self.dry_run:
                _log.debug("Keeping '%s' in %s: it differs there", ns, self.target.url)
            outcome.skipped.append(ns)
        return False


def _logged(report: TransferReport) -> TransferReport:
    """``report``, after logging its summary at INFO (a dry run at DEBUG)."""
    _log.log(
        logging.DEBUG if report.dry_run else logging.INFO,
        "Copied %d and kept %d namespace(s) from %s to %s (%d already up to date)",
        len(report.copied),
        len(report.skipped),
        report.source,
        report.target,
        len(report.unchanged),
    )
    return report
