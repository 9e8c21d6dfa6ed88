"""The catalog: a store's namespaces and datasets as one value
(:mod:`~minari_namespaces.catalog.model`, gathered by :func:`read_catalog`), and the
pages that show it (:func:`~minari_namespaces.catalog.pages.write_catalog`): Minari's
documentation layout in Markdown (:mod:`~minari_namespaces.catalog.markdown`) and one
offline HTML page (:mod:`~minari_namespaces.catalog.html`).
"""

from minari_namespaces.catalog.model import Catalog, CatalogNamespace, read_catalog

__all__ = ["Catalog", "CatalogNamespace", "read_catalog"]
