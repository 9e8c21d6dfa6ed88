"""Datasets moved to and from the Hub by us and by the real minari 0.5.4, side by side.

Real datasets written by Minari's ``DataCollector`` (one HDF5, one Arrow): what we
publish in one commit, minari lists with ``list_remote_datasets`` and fetches with
``download_dataset``, and ``load_dataset`` opens the copy with the source's steps;
what minari publishes (2N+2 commits), we download byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minari_namespaces import DatasetId, NamespaceService
from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.cartpole import cartpole_collector, collect_cartpole
from tests.compat.hub_datasets import minari_at, minari_metadata
from tests.support.harnesses import HUB_ORG

pytestmark = [pytest.mark.compat, pytest.mark.hub]

#: One dataset per storage format Minari writes.
FORMATS = {"D4RL/door/human-v0": "hdf5", "D4RL/door/arrow-v0": "arrow"}
REPO = f"{HUB_ORG}/D4RL"


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder with ``FORMATS``' datasets, collected by Minari itself."""
    import minari.namespace as minari_namespace

    root = tmp_path_factory.mktemp("minari-formats")
    with minari_at(root):
        minari_namespace.create_namespace("D4RL", "D4RL datasets")
        minari_namespace.create_namespace("D4RL/door", "Door opening")
        for seed, (dataset_id, data_format) in enumerate(sorted(FORMATS.items())):
            env = cartpole_collector(data_format)
            collect_cartpole(env, dataset_id, episodes=3, seed=seed)
            env.close()
    return root


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_same_steps(copy_root: Path, source: Path, dataset_id: str) -> None:
    """``load_dataset`` opens the copy with the same episodes and steps."""
    import minari

    with minari_at(source):
        original = list(minari.load_dataset(dataset_id).iterate_episodes())
    with minari_at(copy_root):
        copied = list(minari.load_dataset(dataset_id).iterate_episodes())
    assert len(copied) == len(original) == 3
    for ours, theirs in zip(copied, original, strict=True):
        assert np.array_equal(ours.observations, theirs.observations)
        assert np.array_equal(ours.actions, theirs.actions)
        assert np.array_equal(ours.rewards, theirs.rewards)


@pytest.mark.usefixtures("fresh_hub_cache")
def test_what_we_publish_in_one_commit_minari_lists_downloads_and_loads(
    hub: HubStandIn, source: Path, tmp_path: Path
) -> None:
    import minari

    NamespaceService.from_urls(source, f"hf://{HUB_ORG}").upload_tree("D4RL", datasets=True)

    assert hub.commits(REPO) == 2
    listed = minari_metadata(tmp_path / "empty")
    assert set(listed) == set(FORMATS)
    target = tmp_path / "minari"
    with minari_at(target):
        for dataset_id in FORMATS:
            minari.download_dataset(dataset_id)
    for dataset_id in FORMATS:
        assert files_of(target / dataset_id) == files_of(source / dataset_id)
        assert_same_steps(target, source, dataset_id)


@pytest.mark.usefixtures("fresh_hub_cache")
def test_what_minari_publishes_we_download_byte_for_byte(
    hub: HubStandIn, source: Path, tmp_path: Path
) -> None:
    import minari
    import minari.namespace as minari_namespace

    with minari_at(source):
        for ns in ("D4RL", "D4RL/door"):
            minari_namespace.upload_namespace(ns, None)
        for dataset_id in sorted(FORMATS):
            minari.upload_dataset(dataset_id, None)
    target = tmp_path / "ours"

    report = NamespaceService.from_urls(target, f"hf://{HUB_ORG}").download_tree(
        "D4RL", datasets=True
    )

    assert report.datasets_copied == sorted(DatasetId(one) for one in FORMATS)
    for dataset_id in FORMATS:
        assert files_of(target / dataset_id) == files_of(source / dataset_id)
        assert_same_steps(target, source, dataset_id)
