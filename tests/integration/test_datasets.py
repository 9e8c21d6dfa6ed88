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
