"""``InMemoryNamespaceRepository``: a small, thread-safe fake for service tests.

It keeps namespaces in a ``dict`` and passes the same contract suite as the real
repositories, so tests that use it test real behaviour.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Iterable

from minari_namespaces.errors import (
    NamespaceConflictError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
)
from minari_namespaces.identifier import NamespaceId, check_batch_twins, portable_key
from minari_namespaces.metadata import (
    METADATA_FILENAME,
    MetadataChange,
    NamespaceMetadata,
    decode_metadata,
)

__all__ = ["InMemoryNamespaceRepository"]


class InMemoryNamespaceRepository:
    """Namespaces in memory, with datasets as plain names.

    Args:
        name: A label for :attr:`url` (``memory-repository://<name>``).
    """

    def __init__(self, name: str = "default") -> None:
        self._name = name
        self._lock = threading.RLock()
        self._namespaces: dict[NamespaceId, bytes] = {}
        self._datasets: dict[NamespaceId | None, set[str]] = {}

    @property
    def url(self) -> str:
        """``memory-repository://<name>``: not an fsspec URL, only a label."""
        return f"memory-repository://{self._name}"

    def __repr__(self) -> str:
        return f"InMemoryNamespaceRepository({self._name!r})"

    def add_dataset(self, ns: NamespaceId | None, name: str) -> None:
        """Put a dataset called ``name`` directly inside ``ns`` (top level for ``None``)."""
        with self._lock:
            self._datasets.setdefault(ns, set()).add(name)

    def write_marker(self, ns: NamespaceId, raw: bytes) -> None:
        """Store ``raw`` as the marker of ``ns`` unchecked (to plant corrupt data)."""
        with self._lock:
            self._namespaces[ns] = bytes(raw)

    def _decode(self, ns: NamespaceId, raw: bytes) -> NamespaceMetadata:
        return decode_metadata(raw, f"{self.url}/{ns}/{METADATA_FILENAME}")

    def remove_dataset(self, ns: NamespaceId | None, name: str) -> None:
        """Remove a dataset added with :meth:`add_dataset`.

        Raises:
            KeyError: If there is no such dataset.
        """
        with self._lock:
            self._datasets[ns].remove(name)

    def _dataset_holding(self, ns: NamespaceId) -> NamespaceId | None:
        """The prefix of ``ns`` (itself included) that is a dataset, if any."""
        for level in ns.hierarchy():
            if level.name in self._datasets.get(level.parent, ()):
                return level
        return None

    def exists(self, ns: NamespaceId) -> bool:
        """Whether ``ns`` exists."""
        with self._lock:
            return ns in self._namespaces

    def get(self, ns: NamespaceId) -> NamespaceMetadata:
        """Read the metadata of ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
        """
        with self._lock:
            raw = self._namespaces.get(ns)
        if raw is None:
            raise _not_found(ns)
        return self._decode(ns, raw)

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        """Read several namespaces; missing ones are left out."""
        with self._lock:
            found = {ns: self._namespaces[ns] for ns in ids if ns in self._namespaces}
        return {ns: self._decode(ns, raw) for ns, raw in found.items()}

    def create(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Create ``ns``.

        Raises:
            NamespaceExistsError: If it exists.
            NamespaceConflictError: If a dataset or a case-only twin holds the path.
        """
        with self._lock:
            if ns in self._namespaces:
                raise NamespaceExistsError(f"Namespace '{ns}' already exists.")
            self._check_free(ns)
            self._namespaces[ns] = metadata.to_json_bytes()

    def _check_free(self, ns: NamespaceId) -> None:
        dataset = self._dataset_holding(ns)
        if dataset is not None:
            raise NamespaceConflictError(
                f"Cannot create namespace '{ns}': the dataset '{dataset}' holds that path."
            )
        for level in ns.hierarchy():
            above = level.parts[:-1]
            siblings = {
                n.parts[len(above)]
                for n in self._namespaces
                if n.depth > len(above) and n.parts[: len(above)] == above
            }
            siblings |= self._datasets.get(level.parent, set())
            twins = {s for s in siblings if portable_key(s) == portable_key(level.name)}
            twins -= {level.name}
            if twins:
                raise NamespaceConflictError(
                    f"Cannot create namespace '{ns}': '{level}' has a case-only twin "
                    f"{sorted(twins)}."
                )

    def create_many(
        self, items: Iterable[tuple[NamespaceId, NamespaceMetadata]]
    ) -> builtins.list[NamespaceId]:
        """Create each namespace in order; return those that already existed.

        Raises:
            NamespaceConflictError: If something else holds a path or two ids of
                the batch are case-only twins (checked before anything is written).
        """
        batch = builtins.list(items)
        existed: builtins.list[NamespaceId] = []
        with self._lock:
            check_batch_twins([ns for ns, _ in batch])
            for ns, _ in batch:
                self._check_free(ns)
            for ns, metadata in batch:
                try:
                    self.create(ns, metadata)
                except NamespaceExistsError:
                    existed.append(ns)
        return existed

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Overwrite the metadata of ``ns``.

        Raises:
            NamespaceNotFoundError: If it does not exist.
        """
        with self._lock:
            if ns not in self._namespaces:
                raise _not_found(ns)
            self._namespaces[ns] = metadata.to_json_bytes()

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Change the metadata of ``ns`` under the repository lock.

        Raises:
            NamespaceNotFoundError: If it does not exist.
        """
        with self._lock:
            updated = change(self.get(ns))
            self._namespaces[ns] = updated.to_json_bytes()
            return updated

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns``.

        Raises:
            NamespaceNotFoundError: If it does not exist.
            NamespaceNotEmptyError: If it holds namespaces or datasets.
        """
        with self._lock:
            if ns not in self._namespaces:
                raise _not_found(ns)
            inside = sorted(str(n) for n in self._namespaces if ns.is_ancestor_of(n))
            inside += sorted(self._datasets.get(ns, ()))
            if inside:
                raise NamespaceNotEmptyError(
                    f"Namespace '{ns}' is not empty: it still holds {', '.join(inside[:5])}. "
                    "Delete its datasets and child namespaces first."
                )
            del self._namespaces[ns]

    def list(self, prefix: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        """Every namespace under ``prefix`` (included), in tree order."""
        with self._lock:
            if prefix is not None and self._dataset_holding(prefix) is not None:
                return []
            return sorted(
                ns
                for ns in self._namespaces
                if (prefix is None or ns.is_within(prefix)) and self._dataset_holding(ns) is None
            )

    def children(self, ns: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        """The namespaces directly inside ``ns``, sorted."""
        with self._lock:
            return sorted(
                child
                for child in self._namespaces
                if child.parent == ns and self._dataset_holding(child) is None
            )

    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset lies directly inside ``ns``."""
        with self._lock:
            return bool(self._datasets.get(ns))


def _not_found(ns: NamespaceId) -> NamespaceNotFoundError:
    return NamespaceNotFoundError(f"Namespace '{ns}' does not exist.")
