"""The pieces the dataset-transfer benchmarks stand on: the tree they move and the
memory probe they measure with."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from benchmarks.dataset_tree import build_dataset_tree, write_big_dataset
from benchmarks.memory_probe import measure

pytestmark = pytest.mark.compat


def test_the_benchmark_tree_is_minari_datasets_that_minari_lists_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import minari

    tree = build_dataset_tree(tmp_path, hdf5_datasets=3, arrow_episodes=7, total_bytes=600_000)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no eval_env: not under test
        listed = minari.list_local_datasets()
        loaded = {dataset_id: minari.load_dataset(dataset_id) for dataset_id in tree.dataset_ids}
    assert sorted(listed) == tree.dataset_ids
    assert len(tree.dataset_ids) == 4
    arrow = loaded["mujoco/hopper/arrow-random-v0"]
    assert arrow.total_episodes == 7
    assert [len(episode.rewards) for episode in arrow.iterate_episodes()] == [
        episode["total_steps"] for episode in arrow.storage.get_episode_metadata(range(7))
    ]
    hdf5 = loaded["mujoco/hopper/expert-v0"]
    assert hdf5.total_steps == sum(len(episode.actions) for episode in hdf5.iterate_episodes())
    # Markers, two files per HDF5 dataset, and 2 per Arrow episode plus its metadata.
    assert tree.files == 2 + 3 * 2 + 7 * 2 + 1
    assert tree.size == sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(tmp_path)
        for name in names
    )


def test_the_big_dataset_file_has_the_size_asked_for_and_no_block_twice(tmp_path: Path) -> None:
    path = write_big_dataset(tmp_path, "big/one-v0", 3 * (1 << 20) + 5)
    content = path.read_bytes()
    blocks = [content[start : start + (1 << 20)] for start in range(0, len(content), 1 << 20)]
    assert len(content) == 3 * (1 << 20) + 5
    assert len(set(blocks)) == len(blocks) == 4
    assert (tmp_path / "big/one-v0/data/metadata.json").is_file()


def test_the_memory_probe_sees_what_the_work_held_at_its_peak() -> None:
    held = measure(lambda: bytearray(96 << 20))
    idle = measure(lambda: None)
    # The allocator may reuse a little of what the process had freed before.
    assert held.growth > 90 << 20
    assert idle.growth < 8 << 20
