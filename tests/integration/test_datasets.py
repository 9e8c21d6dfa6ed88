"""Dataset folders (a folder holding ``data/``) inside namespaces, laid out as Minari does."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from minari_namespaces import (
    DatasetId,
    LocalNamespaceRepository,
    NamespaceConflictError,
    NamespaceId,
    NamespaceNotEmptyError,
    NamespaceService,
    open_repository,
)
from tests.support.layout import DATASET_METADATA, local_files, put_dataset

MARKER = "namespace_metadata.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def service(root: Path) -> NamespaceService:
    return NamespaceService(LocalNamespaceRepository(root))


def add_dataset(root: Path, dataset_id: str) -> Path:
    """Lay out ``<root>/<dataset_id>/data/...`` as ``minari`` stores a dataset, its
    metadata naming it."""
    put, _ = local_files(root)
    folder = tuple(dataset_id.split("/"))
    put_dataset(put, folder)
    put((*folder, *DATASET_METADATA), json.dumps({"dataset_id": dataset_id}).encode())
    return root / dataset_id


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else b"<dir>"
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def door(root: Path, service: NamespaceService) -> Path:
    service.create("D4RL/door", description="Door tasks")
    return add_dataset(root, "D4RL/door/human-v2")


def test_a_dataset_folder_is_not_listed_as_a_namespace(
    service: NamespaceService, door: Path
) -> None:
    assert service.list_local() == [NamespaceId("D4RL"), NamespaceId("D4RL/door")]
    assert service.list_local("D4RL/door") == [NamespaceId("D4RL/door")]
    assert service.list_local("D4RL/door/human-v2") == []
    assert service.children("D4RL/door") == []
    assert not service.exists("D4RL/door/human-v2")
    assert service.local.has_datasets(NamespaceId("D4RL/door"))
    assert not service.local.has_datasets(NamespaceId("D4RL"))


def test_a_dataset_folder_with_a_stray_marker_is_still_a_dataset(
    service: NamespaceService, door: Path
) -> None:
    (door / MARKER).write_text("{}")
    (door / "inner").mkdir()
    (door / "inner" / MARKER).write_text("{}")
    assert service.list_local() == [NamespaceId("D4RL"), NamespaceId("D4RL/door")]
    assert not service.exists("D4RL/door/human-v2")
    assert not service.exists("D4RL/door/human-v2/inner")
    assert service.children("D4RL/door/human-v2") == []


def test_a_top_level_dataset_is_not_a_namespace(root: Path, service: NamespaceService) -> None:
    add_dataset(root, "cartpole-v0")
    service.create("D4RL")
    assert service.list_local() == [NamespaceId("D4RL")]
    assert service.children() == [NamespaceId("D4RL")]


def test_a_dataset_blocks_delete_of_its_namespace(
    root: Path, service: NamespaceService, door: Path
) -> None:
    before = snapshot(root)
    with pytest.raises(NamespaceNotEmptyError, match="human-v2"):
        service.delete("D4RL/door")
    assert snapshot(root) == before
    assert service.get("D4RL/door").description == "Door tasks"


def test_delete_works_once_the_dataset_is_gone(
    root: Path, service: NamespaceService, door: Path
) -> None:
    shutil.rmtree(door)
    service.delete("D4RL/door")
    assert service.list_local() == [NamespaceId("D4RL")]
    assert os.listdir(root / "D4RL") == [MARKER]


@pytest.mark.parametrize(
    "target",
    ["D4RL/door/human-v2", "D4RL/door/human-v2/inner", "D4RL/door/human-v2/inner/deeper"],
)
def test_no_namespace_can_be_created_in_or_on_a_dataset(
    root: Path, service: NamespaceService, door: Path, target: str
) -> None:
    before = snapshot(root)
    with pytest.raises(NamespaceConflictError, match="dataset"):
        service.create(target, description="nope")
    with pytest.raises(NamespaceConflictError):
        service.create(target, exist_ok=True)
    assert snapshot(root) == before
    assert sorted(os.listdir(door)) == ["data"]


def test_no_namespace_can_be_created_on_a_top_level_dataset(
    root: Path, service: NamespaceService
) -> None:
    dataset = add_dataset(root, "cartpole-v0")
    with pytest.raises(NamespaceConflictError, match="dataset"):
        service.create("cartpole-v0/inner")
    assert sorted(os.listdir(dataset)) == ["data"]
    assert service.list_local() == []


def test_a_dataset_beside_namespaces_leaves_them_usable(
    root: Path, service: NamespaceService, door: Path
) -> None:
    service.create("D4RL/door/expert", description="sibling of the dataset")
    service.update_properties("D4RL/door", updates={"n": 1})
    assert service.list_local() == [
        NamespaceId("D4RL"),
        NamespaceId("D4RL/door"),
        NamespaceId("D4RL/door/expert"),
    ]
    assert service.children("D4RL/door") == [NamespaceId("D4RL/door/expert")]
    service.delete("D4RL/door/expert")
    assert sorted(os.listdir(door)) == ["data"]


# -- listing datasets --------------------------------------------------------------


def test_datasets_are_listed_with_their_minari_metadata(
    root: Path, service: NamespaceService, door: Path
) -> None:
    add_dataset(root, "D4RL/door/expert-v2")
    add_dataset(root, "cartpole-v0")
    entries = service.list_datasets(metadata=True)
    assert [str(entry.id) for entry in entries] == [
        "cartpole-v0",
        "D4RL/door/expert-v2",
        "D4RL/door/human-v2",
    ]
    assert [entry.metadata for entry in entries] == [
        {"dataset_id": str(entry.id)} for entry in entries
    ]


def test_a_linked_dataset_folder_or_metadata_file_is_never_followed(
    tmp_path: Path, root: Path, service: NamespaceService, door: Path
) -> None:
    elsewhere = add_dataset(tmp_path / "elsewhere", "outside-v1")
    os.symlink(elsewhere, root / "D4RL" / "door" / "linked-v1")
    metadata = door / "data" / "metadata.json"
    secret = tmp_path / "secret.json"
    secret.write_text('{"total_episodes": 1}')
    metadata.unlink()
    os.symlink(secret, metadata)
    (entry,) = service.list_datasets("D4RL/door", metadata=True)
    assert entry.id == DatasetId("D4RL/door/human-v2")
    assert entry.metadata is None
    assert entry.error is not None
    assert str(metadata) in str(entry.error)


def test_a_dataset_in_a_hidden_folder_is_not_listed(root: Path, service: NamespaceService) -> None:
    add_dataset(root, ".cache/tmp-v1")
    add_dataset(root, "D4RL/visible-v1")
    assert [str(e.id) for e in service.list_datasets()] == ["D4RL/visible-v1"]


def bytes_under(folder: Path) -> int:
    """The bytes of every regular file under ``folder``, as ``du --bytes`` adds them up."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("url", ["{root}", "file://{root}"], ids=["local", "file"])
def test_dataset_sizes_are_the_bytes_of_their_files(root: Path, url: str) -> None:
    """Issue 23: sizes come from the walk that finds the datasets, every file of the
    folder counted (nested, hidden, beside ``data``), nothing outside it."""
    service = NamespaceService(open_repository(url.format(root=root)))
    service.create("D4RL/door", description="x" * 500)
    for number, dataset in enumerate(["D4RL/door/human-v2", "D4RL/door/expert-v0", "top-v1"]):
        folder = add_dataset(root, dataset)
        (folder / "data" / "episodes").mkdir()
        for episode in range(number + 1):
            (folder / "data" / "episodes" / f"{episode}.arrow").write_bytes(b"e" * 1000 * number)
        (folder / "data" / ".checksum").write_bytes(b"c" * (7 + number))
        (folder / "README.md").write_text("Collected by hand.\n" * number)

    entries = service.list_datasets(sizes=True)

    assert {str(entry.id): entry.size for entry in entries} == {
        dataset: bytes_under(root / dataset)
        for dataset in ["top-v1", "D4RL/door/expert-v0", "D4RL/door/human-v2"]
    }
    assert len({entry.size for entry in entries}) == 3
    listing = service.list_tree("D4RL", sizes=True)
    assert listing.sizes == {
        DatasetId(dataset): bytes_under(root / dataset)
        for dataset in ["D4RL/door/expert-v0", "D4RL/door/human-v2"]
    }
    assert service.list_tree("D4RL").sizes == {}
    assert all(entry.size is None for entry in service.list_datasets())


@pytest.mark.parametrize("url", ["{root}", "file://{root}"], ids=["local", "file"])
def test_a_dataset_holding_a_link_or_a_fifo_has_no_size(
    tmp_path: Path, root: Path, url: str
) -> None:
    """A link or a FIFO is never copied, so no size counts it: the size is unknown
    for that dataset alone."""
    service = NamespaceService(open_repository(url.format(root=root)))
    linked = add_dataset(root, "lab/linked-v0")
    (tmp_path / "secret").write_bytes(b"s" * 4096)
    os.symlink(tmp_path / "secret", linked / "data" / "extra.bin")
    os.mkfifo(add_dataset(root, "lab/piped-v0") / "data" / "pipe")
    plain = add_dataset(root, "lab/plain-v0")

    sizes = {str(entry.id): entry.size for entry in service.list_datasets("lab", sizes=True)}

    assert sizes == {
        "lab/linked-v0": None,
        "lab/piped-v0": None,
        "lab/plain-v0": bytes_under(plain),
    }
