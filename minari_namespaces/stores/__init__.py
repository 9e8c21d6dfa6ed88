"""The stores: the repositories, over one shared base, and their drivers.

- :mod:`~minari_namespaces.stores.base`: the rules and texts every store shares;
- :mod:`~minari_namespaces.stores.dataset_base`: the base's dataset half (metadata,
  files, checked writes and transfer hooks of the datasets a store holds);
- :mod:`~minari_namespaces.stores.local`: :class:`LocalNamespaceRepository`;
- :mod:`~minari_namespaces.stores.fsspec`: :class:`FsspecNamespaceRepository` and
  its driver table, ``DRIVERS``;
- :mod:`~minari_namespaces.stores.folders`: the walk of a folder tree that the local
  store and the file driver share;
- :mod:`~minari_namespaces.stores.credentials`: credentials in URLs and options;
- :mod:`~minari_namespaces.stores.drivers`: the driver contract and every driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minari_namespaces.stores.local import LocalNamespaceRepository

if TYPE_CHECKING:
    from minari_namespaces.stores.fsspec import FsspecNamespaceRepository

__all__ = ["FsspecNamespaceRepository", "LocalNamespaceRepository"]


def __getattr__(name: str) -> Any:
    # fsspec is imported only when a remote is actually used.
    if name == "FsspecNamespaceRepository":
        from minari_namespaces.stores.fsspec import FsspecNamespaceRepository

        return FsspecNamespaceRepository
    raise AttributeError(f"module 'minari_namespaces.stores' has no attribute {name!r}")
