"""Build benchmark trees quickly, byte-for-byte in Minari's layout.

Trees are written with plain file operations (not through the library) so that
building them is fast and independent of the code being measured.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MARKER = "namespace_metadata.json"


def namespace_names(count: int, fanout: int = 100) -> list[str]:
    """``count`` ids in a two-level tree: ``t0000`` parents with ``fanout - 1`` children."""
    names: list[str] = []
    top = 0
    while len(names) < count:
        parent = f"t{top:04d}"
        names.append(parent)
        for child in range(fanout - 1):
            if len(names) >= count:
                break
            names.append(f"{parent}/n{child:03d}")
        top += 1
    return names


def write_tree(root: Path, names: list[str], *, dataset_files: int = 0) -> None:
    """Write a marker for every name; with ``dataset_files``, give every leaf a
    dataset folder ``ds-v0/data`` holding that many files (as Minari lays them out)."""
    parents = {name.rsplit("/", 1)[0] for name in names if "/" in name}
    for name in names:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / MARKER, "w") as handle:
            json.dump({"description": f"namespace {name}"}, handle)
        if dataset_files and name not in parents:
            data = folder / "ds-v0" / "data"
            data.mkdir(parents=True)
            for index in range(dataset_files):
                (data / f"chunk_{index:02d}.bin").write_bytes(b"\0" * 16)


def floor_walk(root: str) -> list[str]:
    """The I/O floor for listing: one ``os.scandir`` per folder, finding marker
    files and pruning dataset folders (those holding ``data``), no links followed."""
    found: list[str] = []
    stack = [(root, "")]
    while stack:
        path, relative = stack.pop()
        subfolders = []
        is_namespace = False
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.name == "data":
                    break
                if entry.name == MARKER:
                    is_namespace = entry.is_file(follow_symlinks=False)
                elif entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.name)
            else:
                if is_namespace and relative:
                    found.append(relative)
                for name in subfolders:
                    child = f"{relative}/{name}" if relative else name
                    stack.append((os.path.join(path, name), child))
    return sorted(found)
