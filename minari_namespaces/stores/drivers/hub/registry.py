"""The registry that Minari reads: the ``namespaces`` list in a repository's root
metadata, recomputed from the repository's files at every commit, so it lists exactly
the sub-namespaces present (even after a racing Minari left it stale)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import METADATA_FILENAME
from minari_namespaces.stores.base import datasets_in, inside_dataset

__all__ = ["DATASETS", "REGISTRY", "root_with_registry", "sub_namespaces"]

#: The root metadata's key that lists the sub-namespaces.
REGISTRY: Final = "namespaces"
#: The root metadata's key that lists the datasets (Minari's, kept by dataset writes).
DATASETS: Final = "datasets"


def root_with_registry(
    top: str,
    files: set[str],
    new_root: bytes | None,
    current_root: bytes | None,
    datasets: Sequence[str] = (),
) -> bytes | None:
    """The root metadata to commit, with a true registry, for a repository that holds
    ``files`` after the commit: ``new_root`` (the root being written, if any) or else
    ``current_root`` (the root at the parent commit), or ``None`` when the root needs
    no change (absent, corrupt, or already true). The ids of ``datasets`` (completed
    by the commit) join Minari's ``datasets`` list."""
    if METADATA_FILENAME not in files:
        return None
    base = new_root if new_root is not None else current_root
    if base is None:
        return None
    try:
        data = json.loads(base)
    except ValueError:
        return None  # a corrupt root stays as it is; reading it says so
    if not isinstance(data, dict):
        return None
    if new_root is not None and current_root is not None:
        # ``datasets`` is Minari's: the remote's list wins over a stale copy.
        try:
            current = json.loads(current_root)
        except ValueError:
            current = None
        if isinstance(current, dict) and DATASETS in current:
            data[DATASETS] = current[DATASETS]
    if datasets:
        held = data.get(DATASETS)
        known = [str(one) for one in held] if isinstance(held, list) else []
        data[DATASETS] = sorted({*known, *datasets})
    registry = sub_namespaces(top, files)
    if registry or REGISTRY in data:
        # A root with nothing to register is stored exactly as it was given.
        data[REGISTRY] = registry
    payload = json.dumps(data).encode("utf-8")
    if payload != current_root or new_root is not None:
        return payload
    return None


def sub_namespaces(top: str, files: set[str]) -> list[str]:
    """The registry: the id of every sub-namespace of ``top`` whose marker the
    repository holds, outside dataset folders, in tree order."""
    keys = [tuple(name.split("/")) for name in files]
    datasets = datasets_in(keys)
    found: list[NamespaceId] = []
    for key in keys:
        folder = key[:-1]
        if key[-1] != METADATA_FILENAME or not folder or inside_dataset(folder, datasets):
            continue
        try:
            found.append(NamespaceId("/".join((top, *folder))))
        except (ValueError, TypeError):
            continue  # not an id: never registered, and listings skip it with a warning
    return [str(ns) for ns in sorted(found)]
