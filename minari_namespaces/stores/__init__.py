"""The stores: one module per backend, over one shared base.

- :mod:`~minari_namespaces.stores.base`: the rules and texts every store shares;
- :mod:`~minari_namespaces.stores.local`: :class:`LocalNamespaceRepository`;
- :mod:`~minari_namespaces.stores.fsspec`: :class:`FsspecNamespaceRepository` and
  its driver table; :mod:`~minari_namespaces.stores.driver` holds the driver
  contract and the generic driver, and each backend with more to offer has a
  driver module of its own (:mod:`~minari_namespaces.stores.s3`,
  :mod:`~minari_namespaces.stores.file`).
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
