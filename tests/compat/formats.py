"""One real dataset per storage format Minari writes (HDF5 and Arrow), collected by
Minari's own ``DataCollector`` into namespaces Minari made, and what
``minari.load_dataset`` reads back from a copy of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.compat.cartpole import cartpole_collector, collect_cartpole
from tests.compat.hub_datasets import minari_at

#: The namespaces above the datasets, parents first, with their descriptions.
NAMESPACES = {"D4RL": "D4RL datasets", "D4RL/door": "Door opening"}
#: One dataset per storage format, by id.
FORMATS = {"D4RL/door/human-v0": "hdf5", "D4RL/door/arrow-v0": "arrow"}
#: Episodes recorded into each dataset.
EPISODES = 3
#: What an episode is compared by: every array Minari stores for it.
_EPISODE_FIELDS = ("observations", "actions", "rewards", "terminations", "truncations")


def collect_formats(root: Path) -> None:
    """Write :data:`NAMESPACES` and :data:`FORMATS` into ``root`` with Minari itself."""
    import minari.namespace as minari_namespace

    with minari_at(root):
        for namespace, description in NAMESPACES.items():
            minari_namespace.create_namespace(namespace, description)
        for seed, (dataset_id, data_format) in enumerate(sorted(FORMATS.items())):
            env = cartpole_collector(data_format)
            collect_cartpole(env, dataset_id, episodes=EPISODES, seed=seed)
            env.close()


def files_of(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder``, by its POSIX path relative to it."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def loaded_steps(root: Path, dataset_id: str) -> list[dict[str, Any]]:
    """Every episode ``minari.load_dataset`` reads from ``root``: each array as its
    dtype, shape and bytes, so that two loads compare with ``==``."""
    import minari
    import numpy as np

    with minari_at(root):
        episodes = list(minari.load_dataset(dataset_id).iterate_episodes())
    steps = []
    for episode in episodes:
        arrays = {name: np.asarray(getattr(episode, name)) for name in _EPISODE_FIELDS}
        steps.append({name: (a.dtype.str, a.shape, a.tobytes()) for name, a in arrays.items()})
    return steps


def assert_same_steps(copy_root: Path, source: Path, dataset_id: str) -> None:
    """``load_dataset`` opens the copy with the source's episodes, step for step."""
    original = loaded_steps(source, dataset_id)
    assert len(original) == EPISODES
    assert loaded_steps(copy_root, dataset_id) == original
