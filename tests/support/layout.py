"""The layout of a Minari dataset folder, written by one builder for every store.

A dataset ``name`` inside namespace ``ns`` is the folder ``<ns parts>/<name>/data``
holding ``main_data.hdf5`` and ``metadata.json``; a namespace's marker is
``<ns parts>/namespace_metadata.json``. Each store only says how to put and remove
one file (by the parts of its path below the store's root).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from minari_namespaces import NamespaceId, NamespaceRepository
from minari_namespaces.testing.contract import RepositoryHarness

#: Writes one file, given the parts of its path below the store's root.
Put = Callable[[tuple[str, ...], bytes], None]
#: Removes one file, given the parts of its path below the store's root.
Remove = Callable[[tuple[str, ...]], None]

#: The files of a dataset folder: the HDF5 signature is enough for every listing.
DATASET_FILES: dict[tuple[str, ...], bytes] = {
    ("data", "main_data.hdf5"): b"\x89HDF",
    ("data", "metadata.json"): b"{}",
}
#: A dataset's metadata, inside its folder.
DATASET_METADATA = ("data", "metadata.json")
_MARKER = "namespace_metadata.json"


def _dataset(ns: NamespaceId | None, name: str) -> tuple[str, ...]:
    return (*(ns.parts if ns else ()), name)


def put_dataset(put: Put, folder: tuple[str, ...]) -> None:
    """Write a dataset's files into ``folder``, whether or not its path is a valid id
    (to plant hostile trees)."""
    for file, raw in DATASET_FILES.items():
        put((*folder, *file), raw)


def layout_harness(
    repository: NamespaceRepository,
    put: Put,
    remove: Remove,
    *,
    ascii_top_level: bool = False,
    copies_datasets: bool = True,
    lists_datasets_by_folder: bool = False,
) -> RepositoryHarness:
    """A harness that plants datasets and markers in ``repository``'s store through
    ``put`` and ``remove``, bypassing the repository (the flags as
    :class:`RepositoryHarness` has them)."""

    def add_dataset(ns: NamespaceId | None, name: str) -> None:
        put_dataset(put, _dataset(ns, name))

    def write_marker(ns: NamespaceId, raw: bytes) -> None:
        put((*ns.parts, _MARKER), raw)

    def write_dataset_metadata(ns: NamespaceId | None, name: str, raw: bytes | None) -> None:
        parts = (*_dataset(ns, name), *DATASET_METADATA)
        if raw is None:
            remove(parts)
        else:
            put(parts, raw)

    return RepositoryHarness(
        repository,
        add_dataset,
        write_marker,
        ascii_top_level=ascii_top_level,
        write_dataset_metadata=write_dataset_metadata,
        copies_datasets=copies_datasets,
        lists_datasets_by_folder=lists_datasets_by_folder,
    )


def local_files(root: Path) -> tuple[Put, Remove]:
    """Put and remove files in a local folder ``root``."""

    def put(parts: tuple[str, ...], raw: bytes) -> None:
        path = root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)

    def remove(parts: tuple[str, ...]) -> None:
        root.joinpath(*parts).unlink()

    return put, remove
