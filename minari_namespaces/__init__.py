"""Typed, fast, concurrency-safe namespaces for Minari datasets, on any fsspec store.

Quick start::

    from minari_namespaces import NamespaceService

    service = NamespaceService.from_urls("/tmp/datasets", "file:///tmp/remote")
    service.create("D4RL/door", description="Door manipulation tasks")
    service.upload("D4RL/door")
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from minari_namespaces.datasets import DatasetEntry, DatasetId
from minari_namespaces.errors import (
    CorruptMetadataError,
    InvalidDatasetIdError,
    InvalidIdError,
    InvalidMetadataError,
    InvalidNamespaceError,
    KeptNamespacesWarning,
    NamespaceConflictError,
    NamespaceError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    NamespaceWarning,
    RemoteError,
    RemoteNotConfiguredError,
    SkippedEntryWarning,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import METADATA_FILENAME, NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository, open_repository
from minari_namespaces.service import (
    NamespaceDiff,
    NamespaceService,
    PropertiesUpdateSummary,
    TransferProgress,
    TransferReport,
)
from minari_namespaces.stores.local import LocalNamespaceRepository

if TYPE_CHECKING:
    from minari_namespaces.stores.fsspec import FsspecNamespaceRepository

__all__ = [
    "METADATA_FILENAME",
    "CorruptMetadataError",
    "DatasetEntry",
    "DatasetId",
    "FsspecNamespaceRepository",
    "InvalidDatasetIdError",
    "InvalidIdError",
    "InvalidMetadataError",
    "InvalidNamespaceError",
    "KeptNamespacesWarning",
    "LocalNamespaceRepository",
    "NamespaceConflictError",
    "NamespaceDiff",
    "NamespaceError",
    "NamespaceExistsError",
    "NamespaceId",
    "NamespaceMetadata",
    "NamespaceNotEmptyError",
    "NamespaceNotFoundError",
    "NamespaceRepository",
    "NamespaceService",
    "NamespaceWarning",
    "PropertiesUpdateSummary",
    "RemoteError",
    "RemoteNotConfiguredError",
    "SkippedEntryWarning",
    "TransferProgress",
    "TransferReport",
    "open_repository",
]


# A library never configures logging: records go nowhere until the application
# adds a handler (``logging.basicConfig(level=logging.DEBUG)`` shows them all).
logging.getLogger(__name__).addHandler(logging.NullHandler())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("minari-namespaces")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0.0.0+unknown"


#: The installed version; ``pyproject.toml`` is its one source.
__version__ = _version()


def __getattr__(name: str) -> Any:
    # fsspec is imported only when a remote is actually used.
    if name == "FsspecNamespaceRepository":
        from minari_namespaces.stores.fsspec import FsspecNamespaceRepository

        return FsspecNamespaceRepository
    raise AttributeError(f"module 'minari_namespaces' has no attribute {name!r}")
