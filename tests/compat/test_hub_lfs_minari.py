"""The real minari 0.5.4 publishes and fetches datasets through the stand-in Hub's LFS.

Datasets written by Minari's own ``DataCollector`` (HDF5 and Arrow) hold binary files
and ``*.arrow`` files, which the Hub keeps in Git LFS: ``minari.upload_dataset`` sends
them through the LFS batch API, ``minari.download_dataset`` fetches them through
``resolve``'s redirect to the object store, and ``minari.load_dataset`` opens the
copy with the same steps as the original.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.cartpole import cartpole_collector, collect_cartpole
from tests.compat.hub_datasets import minari_at
from tests.support.harnesses import HUB_ORG

pytestmark = [pytest.mark.compat, pytest.mark.hub]


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("data_format", ["hdf5", "arrow"])
def test_minari_uploads_downloads_and_loads_a_dataset_held_in_lfs(
    hub: HubStandIn, tmp_path: Path, fresh_hub_cache: Path, data_format: str
) -> None:
    import minari
    import minari.namespace as minari_namespace

    dataset_id = f"lfs/cartpole-{data_format}-v0"
    source, target = tmp_path / "source", tmp_path / "target"
    with minari_at(source):
        minari_namespace.create_namespace("lfs", "datasets in LFS")
        env = cartpole_collector(data_format)
        collect_cartpole(env, dataset_id, episodes=3, seed=7)
        env.close()
        minari_namespace.upload_namespace("lfs", None)
        minari.upload_dataset(dataset_id, None)
        original = minari.load_dataset(dataset_id)
        sent = folder_files(source / dataset_id)

    held = hub.files(f"{HUB_ORG}/lfs")
    data_files = {path for path in held if path.startswith(f"cartpole-{data_format}-v0/data/")}
    binary = {path for path in data_files if not path.endswith(".json")}
    assert binary
    assert binary <= hub.lfs_paths(f"{HUB_ORG}/lfs")
    assert hub.take_counts()["lfs_upload"] >= len(binary)

    with minari_at(target):
        minari.download_dataset(dataset_id)
        copy = minari.load_dataset(dataset_id)
        assert folder_files(target / dataset_id) == sent
        assert copy.total_episodes == original.total_episodes == 3
        assert copy.total_steps == original.total_steps
        for ours, theirs in zip(copy.iterate_episodes(), original.iterate_episodes(), strict=True):
            assert np.array_equal(ours.observations, theirs.observations)
            assert np.array_equal(ours.actions, theirs.actions)
    assert hub.take_counts()["cdn"] >= len(binary)
