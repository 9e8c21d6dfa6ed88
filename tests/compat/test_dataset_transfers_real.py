"""Real Minari datasets (HDF5 and Arrow, written by Minari's DataCollector) move with
their namespaces local -> S3 -> local byte for byte, and Minari loads them after."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import minari
import numpy as np
import pytest

from minari_namespaces import FsspecNamespaceRepository, LocalNamespaceRepository, NamespaceService
from minari_namespaces.testing.transfer_contract import tree_bytes
from tests.compat.cartpole import collect_cartpole
from tests.support.servers import S3Server

pytestmark = [
    pytest.mark.compat,
    pytest.mark.s3,
    pytest.mark.filterwarnings("ignore:`eval_env` is set to None:UserWarning"),
]

DATASETS = {"robots/cartpole/hdf5-v0": "hdf5", "robots/cartpole/arrow-v0": "arrow"}


def steps(dataset_id: str) -> list[np.ndarray]:
    dataset = minari.load_dataset(dataset_id)
    return [episode.actions for episode in dataset.iterate_episodes()]


def test_real_datasets_travel_local_to_s3_to_local_and_load_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server
) -> None:
    source_root = tmp_path / "source"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(source_root))
    source = LocalNamespaceRepository(source_root)
    NamespaceService(source).create("robots/cartpole", description="CartPole")
    for dataset_id, data_format in DATASETS.items():
        env = minari.DataCollector(gym.make("CartPole-v1"), data_format=data_format)
        collect_cartpole(env, dataset_id, episodes=3, seed=7)
        env.close()
    expected = {dataset_id: steps(dataset_id) for dataset_id in DATASETS}

    remote = FsspecNamespaceRepository(
        f"s3://{moto_s3.new_bucket()}/minari", **moto_s3.storage_options()
    )
    up = NamespaceService(source, remote).upload_tree("robots", datasets=True)
    assert sorted(map(str, up.datasets_copied)) == sorted(DATASETS)
    target_root = tmp_path / "target"
    target = LocalNamespaceRepository(target_root)
    down = NamespaceService(target, remote).download_tree(datasets=True)
    assert sorted(map(str, down.datasets_copied)) == sorted(DATASETS)
    assert tree_bytes(target) == tree_bytes(source)

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(target_root))
    assert sorted(minari.list_local_datasets()) == sorted(DATASETS)
    for dataset_id, actions in expected.items():
        loaded = steps(dataset_id)
        assert len(loaded) == len(actions)
        for got, want in zip(loaded, actions, strict=True):
            np.testing.assert_array_equal(got, want)
