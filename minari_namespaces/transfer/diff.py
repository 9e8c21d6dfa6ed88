"""What ``diff`` finds: the namespaces of one subtree that only one side holds, and
those both hold with different or equal metadata. It writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from minari_namespaces.identifier import NamespaceId
from minari_namespaces.repository import NamespaceRepository

__all__ = ["NamespaceDiff", "compare"]


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


def compare(
    local: NamespaceRepository, remote: NamespaceRepository, start: NamespaceId | None
) -> NamespaceDiff:
    """Compare the subtrees under ``start`` (everything if ``None``) of both sides.

    Raises:
        CorruptMetadataError: If metadata on either side is corrupt.
        RemoteError: If the remote fails.
    """
    local_ids = set(local.list_namespaces(start))
    remote_ids = set(remote.list_namespaces(start))
    common = sorted(local_ids & remote_ids)
    local_data = local.get_many(common)
    remote_data = remote.get_many(common)
    different = [ns for ns in common if local_data.get(ns) != remote_data.get(ns)]
    return NamespaceDiff(
        only_local=sorted(local_ids - remote_ids),
        only_remote=sorted(remote_ids - local_ids),
        different=different,
        same=[ns for ns in common if ns not in set(different)],
    )
