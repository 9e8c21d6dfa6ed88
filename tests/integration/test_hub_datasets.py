"""Datasets to and from the Hugging Face Hub (the stand-in, with Git LFS).

A namespace published with its datasets is one commit per repository, with the
registry (``datasets`` and ``namespaces``) exact in that same commit; LFS content
goes through the client's public commit API; a rerun commits nothing and reads no
file; a commit that lands but whose answer is lost is found, never sent twice.
Downloads come from one listing per repository, verified against the Hub's hashes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from minari_namespaces import DatasetId, NamespaceService
from minari_namespaces.errors import KeptDatasetsWarning
from minari_namespaces.stores.drivers.hub import datasets as hub_datasets
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.harnesses import HUB_ORG

pytestmark = pytest.mark.hub

REPO = f"{HUB_ORG}/D4RL"
DATASETS = ["D4RL/door/expert-v0", "D4RL/door/human-v1", "D4RL/door/human-v2"]


def write_tree(root: Path, datasets: list[str] = DATASETS, episodes: int = 1) -> dict[str, bytes]:
    """Namespaces ``D4RL`` and ``D4RL/door`` and ``datasets`` (an HDF5 file, which
    the Hub keeps in LFS, ``episodes - 1`` Arrow files and ``data/metadata.json``);
    the files by path."""
    for ns in ("D4RL", "D4RL/door"):
        (root / ns).mkdir(parents=True, exist_ok=True)
        (root / ns / "namespace_metadata.json").write_text(json.dumps({"description": ns}))
    for number, dataset in enumerate(datasets):
        data = root / dataset / "data"
        data.mkdir(parents=True)
        (data / "main_data.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n\0" + os.urandom(500 + number))
        for episode in range(1, episodes):
            (data / f"episode_{episode}.arrow").write_bytes(os.urandom(100))
        (data / "metadata.json").write_text(json.dumps({"dataset_id": dataset}))
    return files_in(root)


def files_in(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".minari-namespaces" not in path.parts
    }


def held(hub: HubStandIn) -> dict[str, bytes]:
    return {
        f"D4RL/{path}": data for path, data in hub.files(REPO).items() if path != ".gitattributes"
    }


def root_of(hub: HubStandIn) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(hub.files(REPO)["namespace_metadata.json"])
    return loaded


def stored(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files of a tree but the root metadata (the Hub's gains the registry)."""
    return {path: data for path, data in files.items() if path != "D4RL/namespace_metadata.json"}


@pytest.fixture
def local(tmp_path: Path) -> Path:
    return tmp_path / "local"


@pytest.fixture
def service(hub: HubStandIn, local: Path) -> NamespaceService:
    return NamespaceService.from_urls(local, f"hf://{HUB_ORG}")


@pytest.fixture
def published(service: NamespaceService, local: Path) -> dict[str, bytes]:
    """The tree, written locally and published; its files by path."""
    files = write_tree(local)
    service.upload_tree("D4RL", datasets=True)
    return files


@pytest.fixture
def elsewhere(hub: HubStandIn, tmp_path: Path) -> NamespaceService:
    """A second local store on the same Hub."""
    return NamespaceService.from_urls(tmp_path / "elsewhere", f"hf://{HUB_ORG}")


def test_publishing_a_namespace_with_its_datasets_is_one_commit_with_an_exact_registry(
    hub: HubStandIn, service: NamespaceService, local: Path
) -> None:
    files = write_tree(local)

    report = service.upload_tree("D4RL", datasets=True)

    assert report.datasets_copied == [DatasetId(one) for one in DATASETS]
    assert hub.commits(REPO) == 2  # the repository's creation, then one commit
    assert stored(held(hub)) == stored(files)
    assert root_of(hub) == {
        "description": "D4RL",
        "datasets": DATASETS,
        "namespaces": ["D4RL/door"],
    }
    hdf5 = {f"door/{one.split('/', 2)[2]}/data/main_data.hdf5" for one in DATASETS}
    assert hdf5 <= hub.lfs_paths(REPO)


@pytest.mark.usefixtures("published")
def test_a_rerun_commits_nothing_uploads_nothing_and_reads_no_dataset_file(
    hub: HubStandIn, service: NamespaceService
) -> None:
    hub.take_counts()

    report = service.upload_tree("D4RL", datasets=True)

    counts = hub.take_counts()
    assert report.datasets_unchanged == [DatasetId(one) for one in DATASETS]
    assert (counts["commit"], counts["preupload"], counts["lfs_upload"], counts["cdn"]) == (0,) * 4
    assert hub.commits(REPO) == 2


@pytest.mark.usefixtures("published")
def test_an_added_dataset_is_one_more_commit_and_joins_the_registry(
    hub: HubStandIn, service: NamespaceService, local: Path
) -> None:
    write_tree(local / "more", ["D4RL/door/human-v3"])
    (local / "more/D4RL/door/human-v3").rename(local / "D4RL/door/human-v3")

    report = service.upload_tree("D4RL", datasets=True)

    assert report.datasets_copied == [DatasetId("D4RL/door/human-v3")]
    assert hub.commits(REPO) == 3
    assert root_of(hub)["datasets"] == sorted([*DATASETS, "D4RL/door/human-v3"])


@pytest.mark.usefixtures("published")
def test_content_the_hub_holds_already_is_not_sent_again(
    hub: HubStandIn, service: NamespaceService, local: Path
) -> None:
    copy = local / "D4RL/door/copy-v0"
    (copy / "data").mkdir(parents=True)
    for name in ("main_data.hdf5", "metadata.json"):
        (copy / "data" / name).write_bytes((local / DATASETS[0] / "data" / name).read_bytes())
    hub.take_counts()

    service.upload_dataset("D4RL/door/copy-v0")

    assert hub.take_counts()["lfs_upload"] == 0  # the LFS object is the expert's
    assert (
        hub.files(REPO)["door/copy-v0/data/main_data.hdf5"]
        == (local / DATASETS[0] / "data/main_data.hdf5").read_bytes()
    )


@pytest.mark.usefixtures("published")
def test_overwrite_replaces_a_dataset_whole_in_one_commit(
    hub: HubStandIn, service: NamespaceService, local: Path
) -> None:
    data = local / DATASETS[1] / "data"
    (data / "main_data.hdf5").unlink()
    (data / "main_data_v2.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n\0 new")

    with pytest.warns(KeptDatasetsWarning, match="human-v1"):
        kept = service.upload_tree("D4RL", datasets=True)
    replaced = service.upload_tree("D4RL", datasets=True, overwrite=True)

    assert (kept.datasets_skipped, replaced.datasets_copied) == ([DatasetId(DATASETS[1])],) * 2
    assert hub.commits(REPO) == 3
    inside = sorted(path for path in hub.files(REPO) if path.startswith("door/human-v1/"))
    assert inside == ["door/human-v1/data/main_data_v2.hdf5", "door/human-v1/data/metadata.json"]


@pytest.mark.parametrize("status", [500, None], ids=["answered-500", "connection-dropped"])
def test_a_commit_applied_whose_answer_is_lost_is_neither_lost_nor_doubled(
    hub: HubStandIn, service: NamespaceService, local: Path, status: int | None
) -> None:
    files = write_tree(local)
    hub.fail_next("commit", status, applied=True)

    service.upload_tree("D4RL", datasets=True)

    assert hub.commits(REPO) == 2
    assert stored(held(hub)) == stored(files)
    assert root_of(hub)["datasets"] == DATASETS


def test_a_throttled_commit_is_waited_out_and_still_one_commit(
    hub: HubStandIn, service: NamespaceService, local: Path
) -> None:
    write_tree(local)
    hub.throttle_next("commit", retry_after="0")

    service.upload_tree("D4RL", datasets=True)

    assert hub.commits(REPO) == 2
    assert root_of(hub)["datasets"] == DATASETS


@pytest.mark.parametrize("route", ["lfs_batch", "lfs_upload"])
def test_a_throttled_lfs_upload_is_waited_out_and_every_file_lands(
    hub: HubStandIn, service: NamespaceService, local: Path, route: str
) -> None:
    files = write_tree(local)
    hub.throttle_next(route, retry_after="0")

    service.upload_tree("D4RL", datasets=True)

    assert stored(held(hub)) == stored(files)
    assert root_of(hub)["datasets"] == DATASETS


def test_a_publication_past_the_files_per_commit_goes_in_few_commits_each_dataset_whole(
    hub: HubStandIn, service: NamespaceService, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each dataset is 4 files; 5 per commit makes the 12 files 3 commits, two
    # datasets spread over two of them, each with its metadata in the later one.
    monkeypatch.setattr(hub_datasets, "COMMIT_FILES", 5)
    files = write_tree(local, episodes=3)

    service.upload_tree("D4RL", datasets=True)

    assert hub.commits(REPO) == 1 + 3
    assert stored(held(hub)) == stored(files)
    assert root_of(hub)["datasets"] == DATASETS


def test_download_tree_brings_every_file_back_and_a_rerun_reads_none(
    hub: HubStandIn, published: dict[str, bytes], elsewhere: NamespaceService, tmp_path: Path
) -> None:
    hub.take_counts()

    report = elsewhere.download_tree("D4RL", datasets=True)

    first = hub.take_counts()
    assert report.datasets_copied == [DatasetId(one) for one in DATASETS]
    assert stored(files_in(tmp_path / "elsewhere")) == stored(published)
    assert first["cdn"] == len(DATASETS)  # each LFS file once, from the object store
    again = elsewhere.download_tree("D4RL", datasets=True)
    counts = hub.take_counts()
    assert again.datasets_unchanged == [DatasetId(one) for one in DATASETS]
    assert counts["cdn"] == 0
    assert counts["resolve"] <= 2  # the two namespaces' metadata; no dataset file


def test_a_throttled_download_is_waited_out(
    hub: HubStandIn, published: dict[str, bytes], elsewhere: NamespaceService, tmp_path: Path
) -> None:
    hub.throttle_next("resolve", retry_after="0", times=4)  # namespaces, then files

    elsewhere.download_tree("D4RL", datasets=True)

    assert stored(files_in(tmp_path / "elsewhere")) == stored(published)


@pytest.mark.usefixtures("published")
def test_download_dataset_without_a_version_brings_the_latest_only(
    elsewhere: NamespaceService,
) -> None:
    report = elsewhere.download_dataset("D4RL/door/human")

    assert report.datasets_copied == [DatasetId("D4RL/door/human-v2")]
    listed = [str(entry.id) for entry in elsewhere.list_datasets("D4RL")]
    assert listed == ["D4RL/door/human-v2"]


def test_upload_dataset_publishes_it_with_its_missing_ancestors_in_one_commit(
    hub: HubStandIn, service: NamespaceService, local: Path
) -> None:
    write_tree(local)

    service.upload_dataset("D4RL/door/human-v1")

    assert hub.commits(REPO) == 2
    assert root_of(hub) == {
        "description": "D4RL",
        "datasets": ["D4RL/door/human-v1"],
        "namespaces": ["D4RL/door"],
    }


def test_dataset_sizes_cost_no_request_more_than_listing_the_datasets(
    hub: HubStandIn, service: NamespaceService, published: dict[str, bytes]
) -> None:
    """Issue 23: the Hub's tree listing gives every file's size (an LFS file's too),
    so sizes come with the listing that finds the datasets."""
    hub.take_counts()
    service.list_datasets(remote=True)
    listing = hub.take_counts()

    sized = service.list_datasets(remote=True, sizes=True)

    assert hub.take_counts() == listing
    assert {str(entry.id): entry.size for entry in sized} == {
        dataset: sum(
            len(data) for path, data in published.items() if path.startswith(f"{dataset}/")
        )
        for dataset in DATASETS
    }
