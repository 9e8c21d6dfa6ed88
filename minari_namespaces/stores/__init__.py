"""The stores: one module per backend, over one shared base.

- :mod:`~minari_namespaces.stores.base`: the rules and texts every store shares;
- :mod:`~minari_namespaces.stores.local`: :class:`LocalNamespaceRepository`;
- :mod:`~minari_namespaces.stores.fsspec`: :class:`FsspecNamespaceRepository` and
  its driver table, ``DRIVERS``;
- :mod:`~minari_namespaces.stores.driver`: the driver contract, ``Driver``;
- :mod:`~minari_namespaces.stores.fsspec_driver`: the generic fsspec driver, the
  asynchronous one and the object stores' common part;
- one driver module per backend with more to offer: ``s3``, ``gcs``, ``azure``,
  ``file``, ``hub`` (the Hugging Face Hub, which implements the contract directly).
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
