"""The tree of the dataset-transfer benchmarks, in Minari's layout.

One namespace, ``bench/door``, holding 20 datasets of about 300 MB in all: 19 in
Minari's HDF5 format (``data/main_data.hdf5``, one group per episode) and one in its
Arrow format with 500 episodes (``data/<episode>/part-0.arrow`` and
``data/<episode>/metadata.json``: 1,001 files with ``data/metadata.json``). Every
dataset has Minari's ``data/metadata.json``.

The files are written with h5py and pyarrow in the shape Minari 0.5.4's storages
write them (the same groups, datasets, dtypes and attributes; the same Arrow schema
and partition folders), from random steps shaped as Hopper's, so ``minari.load_dataset``
opens each one. Minari's own writers take minutes for this tree (its Arrow storage
stats every file of the dataset after each episode); these take seconds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MARKER = "namespace_metadata.json"
NAMESPACE = "mujoco/hopper"
#: Names of the HDF5 datasets, each in versions 0 to 3.
_NAMES = ("expert", "medium", "simple", "random", "replay")
#: Hopper's spaces and steps, as Minari's MuJoCo datasets hold them.
_OBSERVATION_SHAPE, _ACTION_SHAPE = 11, 3
_ENV_SPEC = {
    "id": "Hopper-v5",
    "entry_point": "gymnasium.envs.mujoco.hopper_v5:HopperEnv",
    "reward_threshold": 3800.0,
    "nondeterministic": False,
    "max_episode_steps": 1000,
    "order_enforce": True,
    "disable_env_checker": False,
    "kwargs": {},
    "additional_wrappers": [],
    "vector_entry_point": None,
}
#: Bytes one step takes in the HDF5 file: a float64 observation, a float32 action, a
#: float64 reward, two booleans; and each episode's groups, datasets and attributes.
_STEP_BYTES = _OBSERVATION_SHAPE * 8 + _ACTION_SHAPE * 4 + 8 + 1 + 1
_EPISODE_OVERHEAD = 2_000
#: Steps per HDF5 episode (Hopper's limit).
_EPISODE_STEPS = 1000


def _spaces() -> dict[str, str]:
    """Observation and action space, serialised by Minari itself."""
    import gymnasium as gym
    from minari.serialization import serialize_space

    observation = gym.spaces.Box(-np.inf, np.inf, (_OBSERVATION_SHAPE,), np.float64)
    action = gym.spaces.Box(-1.0, 1.0, (_ACTION_SHAPE,), np.float32)
    return {
        "observation_space": serialize_space(observation),
        "action_space": serialize_space(action),
    }


@dataclass(frozen=True)
class DatasetTree:
    """A benchmark tree on disk.

    Attributes:
        root: The folder that holds it (Minari's ``MINARI_DATASETS_PATH``).
        namespace: The namespace that holds every dataset.
        dataset_ids: Every dataset, sorted.
        files: Regular files under ``root``, markers included.
        size: Bytes of those files.
    """

    root: Path
    namespace: str
    dataset_ids: list[str]
    files: int
    size: int


def build_dataset_tree(
    root: Path,
    *,
    hdf5_datasets: int = 19,
    arrow_episodes: int = 500,
    total_bytes: int = 300_000_000,
    seed: int = 0,
) -> DatasetTree:
    """Write the namespace markers and the datasets into ``root``.

    ``total_bytes`` is shared out among the HDF5 datasets, to the nearest episode
    (the Arrow one is small: about 7 MB for 500 episodes).
    """
    rng = np.random.default_rng(seed)
    parts = NAMESPACE.split("/")
    for depth in range(1, len(parts) + 1):
        folder = root.joinpath(*parts[:depth])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).write_text(json.dumps({"description": "Benchmark datasets"}))
    ids = [f"{NAMESPACE}/{name}-v{version}" for version in range(4) for name in _NAMES]
    ids = sorted(ids[:hdf5_datasets])
    episode_bytes = _STEP_BYTES * _EPISODE_STEPS + _EPISODE_OVERHEAD
    episodes = max(1, total_bytes // max(1, hdf5_datasets) // episode_bytes)
    for dataset_id in ids:
        write_hdf5_dataset(root, dataset_id, episodes, rng)
    if arrow_episodes:
        arrow_id = f"{NAMESPACE}/arrow-random-v0"
        write_arrow_dataset(root, arrow_id, arrow_episodes, rng)
        ids = sorted([*ids, arrow_id])
    files, size = _count(root)
    return DatasetTree(root, NAMESPACE, ids, files, size)


def _count(root: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.stat(os.path.join(folder, name), follow_symlinks=False).st_size
    return files, size


def dataset_metadata(
    dataset_id: str, data_format: str, *, episodes: int, steps: int, size: float
) -> dict[str, Any]:
    """``data/metadata.json`` as Minari 0.5.4's ``create_dataset`` writes it."""
    return {
        "total_episodes": episodes,
        "total_steps": steps,
        "data_format": data_format,
        "jpeg_encoding": True,
        **_spaces(),
        "env_spec": json.dumps(_ENV_SPEC),
        "dataset_size": size,
        "dataset_id": dataset_id,
        "code_permalink": "https://github.com/Farama-Foundation/Minari",
        "author": ["minari-namespaces benchmarks"],
        "author_email": ["benchmarks@example.com"],
        "algorithm_name": "random",
        "description": f"Random Hopper steps in Minari's {data_format} format",
        "minari_version": "0.5.4",
    }


def _write_metadata(data: Path, metadata: dict[str, Any]) -> None:
    with open(data / "metadata.json", "w") as handle:
        json.dump(metadata, handle)


def _megabytes(data: Path) -> float:
    """Megabytes of the files under ``data``, rounded as Minari rounds them."""
    return round(_count(data)[1] / 1e6, 1)


def _reward_stats(rewards: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, float]:
    return {
        "rewards_sum": float(rewards.sum()),
        "rewards_mean": float(rewards.mean()),
        "rewards_std": float(rewards.std()),
        "rewards_max": float(rewards.max()),
        "rewards_min": float(rewards.min()),
    }


def write_hdf5_dataset(
    root: Path, dataset_id: str, episodes: int, rng: np.random.Generator
) -> None:
    """One HDF5 dataset of ``episodes`` random episodes of Hopper's full length."""
    import h5py  # type: ignore[import-untyped]

    data = root / dataset_id / "data"
    data.mkdir(parents=True)
    steps = _EPISODE_STEPS
    truncations = np.zeros(steps, dtype=bool)
    truncations[-1] = True
    with h5py.File(data / "main_data.hdf5", "w") as handle:
        for index in range(episodes):
            rewards = rng.random(steps)
            group = handle.create_group(f"episode_{index}")
            group.attrs.update({"id": index, "seed": index, "total_steps": steps})
            group.attrs.update(_reward_stats(rewards))
            group.create_dataset(
                "observations", data=rng.standard_normal((steps + 1, _OBSERVATION_SHAPE))
            )
            group.create_dataset(
                "actions",
                data=rng.uniform(-1, 1, (steps, _ACTION_SHAPE)).astype(np.float32),
            )
            group.create_dataset("rewards", data=rewards)
            group.create_dataset("terminations", data=np.zeros(steps, dtype=bool))
            group.create_dataset("truncations", data=truncations)
            group.create_group("infos")
    metadata = dataset_metadata(
        dataset_id, "hdf5", episodes=episodes, steps=episodes * steps, size=_megabytes(data)
    )
    _write_metadata(data, metadata)


def write_arrow_dataset(
    root: Path, dataset_id: str, episodes: int, rng: np.random.Generator
) -> None:
    """One Arrow dataset of ``episodes`` short random episodes: a folder per episode
    holding ``part-0.arrow`` and the episode's ``metadata.json``."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.dataset as ds  # type: ignore[import-untyped]

    data = root / dataset_id / "data"
    data.mkdir(parents=True)
    lengths = rng.integers(10, 40, episodes)
    # Minari stores one observation more than steps and pads the other columns.
    rows = lengths + 1
    total = int(rows.sum())
    ends = np.cumsum(rows) - 1
    rewards = rng.random(total)
    rewards[ends] = 0.0
    terminations = np.zeros(total, dtype=bool)
    terminations[ends - 1] = True
    actions = rng.uniform(-1, 1, (total, _ACTION_SHAPE)).astype(np.float32)
    actions[ends] = 0.0
    batch = pa.RecordBatch.from_pydict(
        {
            "episode_id": np.repeat(np.arange(episodes, dtype=np.int32), rows),
            "observations": _fixed_lists(rng.standard_normal((total, _OBSERVATION_SHAPE))),
            "actions": _fixed_lists(actions),
            "rewards": rewards,
            "terminations": terminations,
            "truncations": np.zeros(total, dtype=bool),
        }
    )
    ds.write_dataset(batch, data, format="arrow", partitioning=["episode_id"])
    starts = ends - lengths
    for index, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        episode = {"id": index, "total_steps": end - start, "seed": index}
        episode.update(_reward_stats(rewards[start:end]))
        with open(data / str(index) / "metadata.json", "w") as handle:
            json.dump(episode, handle)
    metadata = dataset_metadata(
        dataset_id, "arrow", episodes=episodes, steps=int(lengths.sum()), size=_megabytes(data)
    )
    _write_metadata(data, metadata)


def _fixed_lists(values: np.ndarray[Any, Any]) -> Any:
    """Rows of ``values`` as Arrow fixed-size lists, as Minari encodes a ``Box``."""
    import pyarrow as pa

    kind = pa.list_(pa.from_numpy_dtype(values.dtype), list_size=values.shape[1])
    return pa.FixedSizeListArray.from_arrays(values.reshape(-1), type=kind)


def write_big_dataset(root: Path, dataset_id: str, size: int) -> Path:
    """A dataset whose ``data/main_data.hdf5`` is ``size`` bytes of random data,
    written a MiB at a time; returns that file."""
    data = root / dataset_id / "data"
    data.mkdir(parents=True)
    block = np.random.default_rng(1).bytes(1 << 20)
    path = data / "main_data.hdf5"
    with open(path, "wb") as handle:
        for start in range(0, size, len(block)):
            # A different first byte in each block, so no two blocks are the same.
            handle.write(bytes([start // len(block) % 256]) + block[1 : size - start])
    metadata = dataset_metadata(dataset_id, "hdf5", episodes=1, steps=1, size=round(size / 1e6, 1))
    _write_metadata(data, metadata)
    return path
