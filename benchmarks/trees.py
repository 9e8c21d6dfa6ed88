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


def dataset_ids(count: int, *, per_namespace: int = 10, fanout: int = 10) -> list[str]:
    """``count`` dataset ids, ``per_namespace`` in each namespace ``tNN/nNN`` (two
    versions of each name), ``fanout`` namespaces under each top-level one."""
    ids: list[str] = []
    for index in range(count):
        leaf, version = divmod(index, per_namespace)
        top, child = divmod(leaf, fanout)
        ids.append(f"t{top:02d}/n{child:02d}/ds{version // 2}-v{version % 2}")
    return ids


def dataset_metadata(dataset_id: str) -> dict[str, object]:
    """Metadata shaped as Minari's DataCollector writes it (about 1 KB)."""
    return {
        "dataset_id": dataset_id,
        "total_episodes": 100,
        "total_steps": 20_000,
        "minari_version": "0.5.4",
        "algorithm_name": "random",
        "author": ["benchmarks"],
        "description": f"Benchmark dataset {dataset_id}",
        "env_spec": json.dumps({"id": "CartPole-v1", "max_episode_steps": 500, "kwargs": {}}),
        "action_space": json.dumps({"type": "Discrete", "dtype": "int64", "n": 2}),
        "observation_space": json.dumps(
            {"type": "Box", "dtype": "float32", "shape": [4], "low": [-4.8] * 4, "high": [4.8] * 4}
        ),
        "data_format": "hdf5",
        "dataset_size": 1.5,
    }


def write_datasets(root: Path, ids: list[str]) -> None:
    """Minari's local layout for ``ids``: a marker per namespace, and per dataset a
    ``data/`` folder holding ``metadata.json`` and a (tiny) ``main_data.hdf5``."""
    namespaces = {"/".join(i.split("/")[:depth]) for i in ids for depth in (1, 2)}
    write_tree(root, sorted(namespaces))
    for dataset_id in ids:
        data = root / dataset_id / "data"
        data.mkdir(parents=True)
        with open(data / "metadata.json", "w") as handle:
            json.dump(dataset_metadata(dataset_id), handle)
        (data / "main_data.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n")


def floor_datasets(root: str) -> dict[str, object]:
    """The I/O floor for listing datasets with their metadata: one ``os.scandir``
    per folder down to the dataset folders (those holding ``data``), then one open,
    read and ``json.loads`` of each ``data/metadata.json``; no checks at all."""
    found: dict[str, object] = {}
    stack = [(root, "")]
    while stack:
        path, relative = stack.pop()
        with os.scandir(path) as entries:
            names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
        if any(name == "data" for name, _ in names):
            with open(os.path.join(path, "data", "metadata.json"), "rb") as handle:
                found[relative] = json.loads(handle.read())
            continue
        for name, is_dir in names:
            if is_dir:
                stack.append((os.path.join(path, name), f"{relative}/{name}" if relative else name))
    return found
