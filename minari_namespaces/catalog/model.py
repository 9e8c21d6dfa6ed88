"""The catalog: a store's namespaces and datasets with their metadata, as one value.

:func:`read_catalog` gathers it from any repository in three batches - one listing
(namespaces and datasets together, each dataset with its size), one batched read of
the namespaces' metadata, one concurrent batch of the datasets'
``data/metadata.json`` - and reads leniently: a corrupt file is that entry's error,
never the whole catalog's. The pages that show it (Minari's documentation layout and
an offline HTML page) are written by :mod:`minari_namespaces.catalog.pages`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as with_fields
from functools import cached_property

from minari_namespaces.datasets import DatasetEntry, DatasetId, TreeListing
from minari_namespaces.errors import CorruptMetadataError
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository

__all__ = ["Catalog", "CatalogNamespace", "format_size", "read_catalog"]

#: Units of :func:`format_size`, by powers of 1,000 (as Minari counts megabytes).
_UNITS = ("kB", "MB", "GB", "TB", "PB")


def format_size(size: int) -> str:
    """``size`` bytes for people, as Minari shows a dataset's size: ``100 B``,
    ``2.5 kB``, ``15.8 MB``, ``1.1 GB`` (powers of 1,000, one decimal)."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in _UNITS[:-1]:
        if value < 999.95:  # what rounds to 1000.0 is shown in the next unit
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} {_UNITS[-1]}"


@dataclass(frozen=True)
class CatalogNamespace:
    """One namespace of a catalog.

    Attributes:
        id: The namespace's id.
        metadata: Its metadata; ``None`` if it has no marker (a folder that only
            holds datasets or namespaces) or the marker is corrupt.
        error: Why the marker could not be read, naming it; ``None`` otherwise.
    """

    id: NamespaceId
    metadata: NamespaceMetadata | None = None
    error: CorruptMetadataError | None = None

    @property
    def display_name(self) -> str:
        """``display_name`` from the metadata if it is a non-empty string, else the
        last segment with its first letter capitalised (as Minari's docs do)."""
        # One key read, not a copy of the whole object (which may nest 128 levels).
        shown = None if self.metadata is None else self.metadata.get("display_name")
        if isinstance(shown, str) and shown.strip():
            return shown
        name = self.id.name
        return name[:1].upper() + name[1:]

    @property
    def description(self) -> str | None:
        """The description, if it is a string."""
        value = None if self.metadata is None else self.metadata.description
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Catalog:
    """A store's namespaces and datasets under a prefix, with their metadata.

    Attributes:
        source: The URL of the store it was read from.
        prefix: The namespace it was read under; ``None`` for the whole store.
        namespaces: Every namespace, in tree order: those with a marker, and the
            folders above a namespace or dataset that lack one.
        datasets: Every dataset, sorted, with its metadata or its error.
    """

    source: str
    prefix: NamespaceId | None
    namespaces: list[CatalogNamespace] = field(default_factory=list)
    datasets: list[DatasetEntry] = field(default_factory=list)

    def namespace(self, ns: NamespaceId) -> CatalogNamespace:
        """The catalog's entry of ``ns``.

        Raises:
            KeyError: If ``ns`` is not in the catalog.
        """
        return self._by_id[ns]

    def children(self, ns: NamespaceId | None) -> list[CatalogNamespace]:
        """The namespaces directly inside ``ns`` (the top of the catalog for ``None``)."""
        return list(self._children.get(ns, ()))

    def datasets_in(self, ns: NamespaceId | None) -> list[DatasetEntry]:
        """The datasets directly inside ``ns`` (top-level datasets for ``None``)."""
        return list(self._datasets_by_namespace.get(ns, ()))

    # Indexes built once, on first use, so that rendering a catalog of N namespaces
    # costs O(N) lookups rather than O(N) scans of the whole catalog.

    @cached_property
    def _by_id(self) -> dict[NamespaceId, CatalogNamespace]:
        return {entry.id: entry for entry in self.namespaces}

    @cached_property
    def _children(self) -> dict[NamespaceId | None, list[CatalogNamespace]]:
        index: dict[NamespaceId | None, list[CatalogNamespace]] = {}
        for entry in self.namespaces:
            key = None if self._is_top(entry.id) else entry.id.parent
            index.setdefault(key, []).append(entry)
        return index

    @cached_property
    def _datasets_by_namespace(self) -> dict[NamespaceId | None, list[DatasetEntry]]:
        index: dict[NamespaceId | None, list[DatasetEntry]] = {}
        for entry in self.datasets:
            index.setdefault(entry.id.namespace, []).append(entry)
        return index

    def _is_top(self, ns: NamespaceId) -> bool:
        if self.prefix is None:
            return ns.depth == 1
        return ns == self.prefix


def read_catalog(
    store: NamespaceRepository, prefix: NamespaceId | None = None, *, datasets: bool = True
) -> Catalog:
    """Read the catalog of ``store`` under ``prefix`` (everything for ``None``), each
    dataset with its metadata and its size; without ``datasets``, only the
    namespaces: the listing of namespaces and one batched read of their metadata,
    nothing about datasets.

    Raises:
        RemoteError: If a remote store fails.
    """
    listing = (
        store.list_tree(prefix, sizes=True)
        if datasets
        else TreeListing(store.list_namespaces(prefix))
    )
    implied = {
        above
        for owner in [*listing.namespaces, *_namespaces_of(listing.datasets)]
        for above in owner.hierarchy()
        if prefix is None or above.is_within(prefix)
    }
    return Catalog(
        source=store.url,
        prefix=prefix,
        namespaces=_read_namespaces(store, sorted(implied), set(listing.namespaces)),
        datasets=[
            with_fields(entry, size=listing.sizes.get(entry.id))
            for entry in store.read_datasets(listing.datasets)
        ]
        if datasets
        else [],
    )


def _namespaces_of(datasets: list[DatasetId]) -> list[NamespaceId]:
    return [dataset.namespace for dataset in datasets if dataset.namespace is not None]


def _read_namespaces(
    store: NamespaceRepository, ids: list[NamespaceId], marked: set[NamespaceId]
) -> list[CatalogNamespace]:
    """Each namespace with its metadata: one batch, or one read each if a corrupt
    marker spoils the batch (so that it spoils only its own entry)."""
    wanted = [ns for ns in ids if ns in marked]
    try:
        found = store.get_many(wanted)
    except CorruptMetadataError:
        found = {}
        failed: dict[NamespaceId, CorruptMetadataError] = {}
        for ns in wanted:
            try:
                found[ns] = store.get(ns)
            except CorruptMetadataError as error:
                failed[ns] = error
            except LookupError:
                continue
        return [CatalogNamespace(ns, found.get(ns), failed.get(ns)) for ns in ids]
    return [CatalogNamespace(ns, found.get(ns)) for ns in ids]
