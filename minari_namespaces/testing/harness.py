"""What the contract suites need to drive one repository."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from minari_namespaces.identifier import NamespaceId
from minari_namespaces.repository import NamespaceRepository

__all__ = ["RepositoryHarness"]


@dataclass
class RepositoryHarness:
    """What the contract suite needs to drive one repository.

    Attributes:
        repository: A fresh, empty repository.
        add_dataset: Puts a dataset folder called ``name`` directly inside a
            namespace (or at top level for ``None``), as Minari lays one out.
        write_marker: Stores raw bytes as a namespace's marker, bypassing every
            check (to plant corrupt data). ``None`` skips the tests that need it.
        write_dataset_metadata: Stores raw bytes (``None``: removes the file) as the
            ``data/metadata.json`` of the dataset ``name`` inside a namespace (or at
            top level for ``None``), which :attr:`add_dataset` made. ``None`` skips
            the tests that need it.
        ascii_top_level: The store holds only top-level names of ASCII letters,
            digits, ``-``, ``_`` and ``.`` (on the Hugging Face Hub a top-level
            namespace is a repository), and refuses others before writing.
        copies_datasets: The store can send and receive dataset files (the
            transfer tests run); every store of this package can.
        lists_datasets_by_folder: A dataset is listed by its ``data`` folder
            (local, ``file://``, in-memory) rather than by its
            ``data/metadata.json`` (object stores, ``memory://``).
    """

    repository: NamespaceRepository
    add_dataset: Callable[[NamespaceId | None, str], None]
    write_marker: Callable[[NamespaceId, bytes], None] | None = None
    ascii_top_level: bool = False
    write_dataset_metadata: Callable[[NamespaceId | None, str, bytes | None], None] | None = None
    copies_datasets: bool = True
    lists_datasets_by_folder: bool = False
