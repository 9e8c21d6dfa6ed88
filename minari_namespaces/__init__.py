"""Typed, fast, concurrency-safe namespaces for Minari datasets, on any fsspec store.

Quick start::

    from minari_namespaces import NamespaceService

    service = NamespaceService.from_urls("/tmp/datasets", "file:///tmp/remote")
    service.create("D4RL/door", description="Door manipulation tasks")
    service.upload("D4RL/door")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minari_namespaces.errors import (
    CorruptMetadataError,
    InvalidMetadataError,
    InvalidNamespaceError,
    NamespaceConflictError,
    NamespaceError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    NamespaceWarning,
    RemoteError,
    SkippedEntryWarning,
)
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.local import LocalNamespaceRepository
from minari_namespaces.metadata import METADATA_FILENAME, NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository, open_repository
from minari_namespaces.service import (
    NamespaceDiff,
    NamespaceService,
    PropertiesUpdateSummary,
    RemoteNotConfiguredError,
    TransferReport,
)

if TYPE_CHECKING:
    from minari_namespaces.remote import FsspecNamespaceRepository

__all__ = [
    "METADATA_FILENAME",
    "CorruptMetadataError",
    "FsspecNamespaceRepository",
    "InvalidMetadataError",
    "InvalidNamespaceError",
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
    "TransferReport",
    "open_repository",
]

__version__ = "0.1.0.dev0"


def __getattr__(name: str) -> Any:
    # fsspec is imported only when a remote is actually used.
    if name == "FsspecNamespaceRepository":
        from minari_namespaces.remote import FsspecNamespaceRepository

        return FsspecNamespaceRepository
    raise AttributeError(f"module 'minari_namespaces' has no attribute {name!r}")
