"""What ``diff`` finds: the namespaces (and, when asked, the datasets) of one subtree
that only one side holds, and those both hold different or equal. It writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from minari_namespaces.datasets import DatasetId
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.transfer.datasets import DatasetTransfer

__all__ = ["NamespaceDiff", "compare"]


@dataclass(frozen=True)
class NamespaceDiff:
    """A dry-run comparison of the local and the remote store.

    Attributes:
        only_local: Namespaces only the local store holds.
        only_remote: Namespaces only the remote store holds.
        different: Namespaces both hold with different metadata.
        same: Namespaces both hold with equal metadata.
        datasets_only_local: Datasets only the local store holds (when compared).
        datasets_only_remote: Datasets only the remote store holds.
        datasets_different: Datasets both hold with different files (size or content).
        datasets_same: Datasets both hold with the same files.
    """

    only_local: list[NamespaceId] = field(default_factory=list)
    only_remote: list[NamespaceId] = field(default_factory=list)
    different: list[NamespaceId] = field(default_factory=list)
    same: list[NamespaceId] = field(default_factory=list)
    datasets_only_local: list[DatasetId] = field(default_factory=list)
    datasets_only_remote: list[DatasetId] = field(default_factory=list)
    datasets_different: list[DatasetId] = field(default_factory=list)
    datasets_same: list[DatasetId] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """Whether both sides hold the same namespaces with the same metadata (and
        the same datasets with the same files, when datasets were compared)."""
        return not (
            self.only_local
            or self.only_remote
            or self.different
            or self.datasets_only_local
            or self.datasets_only_remote
            or self.datasets_different
        )


def compare(
    local: NamespaceRepository,
    remote: NamespaceRepository,
    prefix: NamespaceId | None,
    *,
    datasets: bool = False,
) -> NamespaceDiff:
    """Compare the subtrees under ``prefix`` of both stores; writes nothing. With
    ``datasets``, the datasets too: their files by size and content, as a transfer
    decides what is unchanged (see :mod:`~minari_namespaces.transfer.datasets`).

    Raises:
        CorruptMetadataError: If metadata on either side is corrupt.
        UnsafeDatasetFileError: If a local dataset holds a link, a FIFO or a device.
        RemoteError: If a store fails.
    """
    local_tree, remote_tree = local.list_tree(prefix), remote.list_tree(prefix)
    local_ids, remote_ids = set(local_tree.namespaces), set(remote_tree.namespaces)
    common = sorted(local_ids & remote_ids)
    local_data, remote_data = local.get_many(common), remote.get_many(common)
    different = [ns for ns in common if local_data.get(ns) != remote_data.get(ns)]
    diff = NamespaceDiff(
        only_local=sorted(local_ids - remote_ids),
        only_remote=sorted(remote_ids - local_ids),
        different=different,
        same=[ns for ns in common if ns not in set(different)],
    )
    if not datasets:
        return diff
    mine, theirs = set(local_tree.datasets), set(remote_tree.datasets)
    # Whichever way the last transfer went, its record tells what is unchanged.
    plans = DatasetTransfer(local, remote, overwrite=False, both_ways=True).plan(mine & theirs)
    diff.datasets_only_local.extend(sorted(mine - theirs))
    diff.datasets_only_remote.extend(sorted(theirs - mine))
    diff.datasets_different.extend(p.id for p in plans if p.action != "unchanged")
    diff.datasets_same.extend(p.id for p in plans if p.action == "unchanged")
    return diff
