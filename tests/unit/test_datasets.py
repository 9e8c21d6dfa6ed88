"""``DatasetId``, ``DatasetEntry`` and the catalog: Minari's dataset ids, parsed once."""

from __future__ import annotations

import copy
import json
import pickle

import pydantic
import pytest

from minari_namespaces import (
    CorruptMetadataError,
    DatasetEntry,
    DatasetId,
    InvalidDatasetIdError,
    NamespaceError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
)
from minari_namespaces.datasets import latest_versions
from minari_namespaces.testing import InMemoryNamespaceRepository

# -- parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "namespace", "name", "version"),
    [
        ("D4RL/door/human-v2", "D4RL/door", "human", 2),
        ("cartpole-v0", None, "cartpole", 0),
        ("mujoco/halfcheetah/expert-v10", "mujoco/halfcheetah", "expert", 10),
        # The version is what follows the last "-v": the name may hold "-v" itself.
        ("a/door-v1-v2", "a", "door-v1", 2),
        ("a/my_data-set-v3", "a", "my_data-set", 3),
        ("café/données-v1", "café", "données", 1),
        ("x-v123456789012345678", None, "x", 123456789012345678),
    ],
)
def test_a_dataset_id_splits_into_namespace_name_and_version(
    text: str, namespace: str | None, name: str, version: int
) -> None:
    dataset = DatasetId(text)
    assert dataset.namespace == (None if namespace is None else NamespaceId(namespace))
    assert dataset.name == name
    assert dataset.version == version
    assert str(dataset) == text
    assert dataset == text
    assert DatasetId.of(namespace, name, version) == dataset


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is not 1-96 letters"),
        ("door", "does not end in '-v' and a version number"),
        ("D4RL/door/human", "does not end in '-v'"),
        ("D4RL/door/human-v", "does not end in '-v'"),
        ("D4RL/door/-v1", "does not end in '-v'"),
        ("D4RL/door/human-v01", "does not end in '-v'"),
        ("D4RL/door/human-vx", "does not end in '-v'"),
        ("D4RL/door/human v1", "is not 1-96 letters"),
        ("D4RL//human-v1", "its namespace is not valid"),
        ("/human-v1", "its namespace is not valid"),
        ("../human-v1", "its namespace is not valid"),
        ("D4RL/data/human-v1", "its namespace is not valid"),
        ("D4RL/door/human-v1/", "is not 1-96 letters"),
        ("a/" * 17 + "x-v1", "its namespace is not valid"),
        # The namespace is exactly 512 bytes: valid alone, too long with the dataset.
        ("/".join(["é" * 90, "é" * 90, "é" * 75]) + "/x-v1", "longer than 512 UTF-8 bytes"),
    ],
)
def test_a_malformed_dataset_id_says_why_in_minaris_words(text: str, reason: str) -> None:
    with pytest.raises(InvalidDatasetIdError, match="Malformed dataset ID") as info:
        DatasetId(text)
    assert reason in str(info.value)
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, NamespaceError)


def test_a_dataset_id_is_a_string_only() -> None:
    with pytest.raises(TypeError, match="expected a str"):
        DatasetId(3)  # type: ignore[arg-type]


def test_input_is_normalised_to_nfc() -> None:
    assert DatasetId("cafe\u0301/x-v1") == DatasetId("café/x-v1")
    assert str(DatasetId("cafe\u0301/x-v1")) == "café/x-v1"


# -- order and value semantics -------------------------------------------------


def test_order_is_namespace_in_tree_order_then_name_then_version_as_a_number() -> None:
    texts = ["D4RL/pen/a-v0", "D4RL/door/human-v10", "top-v1", "D4RL/door/human-v2",
             "D4RL/door-x/play-v0", "D4RL/door/expert-v2", "D4RL/x-v0"]  # fmt: skip
    assert [str(d) for d in sorted(DatasetId(t) for t in texts)] == [
        "top-v1",
        "D4RL/x-v0",
        "D4RL/door/expert-v2",
        "D4RL/door/human-v2",
        "D4RL/door/human-v10",
        "D4RL/door-x/play-v0",
        "D4RL/pen/a-v0",
    ]


def test_a_dataset_id_is_an_immutable_hashable_value() -> None:
    dataset = DatasetId("D4RL/door/human-v2")
    assert hash(dataset) == hash("D4RL/door/human-v2")
    assert "D4RL/door/human-v2" in {dataset}
    assert copy.deepcopy(dataset) is dataset
    assert pickle.loads(pickle.dumps(dataset)) == dataset
    assert DatasetId.parse(dataset) is dataset
    with pytest.raises(AttributeError, match="immutable"):
        dataset._name = "other"


def test_is_within_matches_by_segments() -> None:
    dataset = DatasetId("D4RL/door-x/play-v0")
    assert dataset.is_within(NamespaceId("D4RL"))
    assert dataset.is_within(NamespaceId("D4RL/door-x"))
    assert not dataset.is_within(NamespaceId("D4RL/door"))
    assert not DatasetId("top-v0").is_within(NamespaceId("top"))
    assert dataset.parts == ("D4RL", "door-x", "play-v0")
    assert dataset.folder == "play-v0"


class Listing(pydantic.BaseModel):
    dataset: DatasetId


def test_a_dataset_id_is_a_pydantic_field_type_serialised_as_its_string() -> None:
    model = Listing.model_validate({"dataset": "D4RL/door/human-v2"})
    assert model.dataset == DatasetId("D4RL/door/human-v2")
    assert json.loads(model.model_dump_json()) == {"dataset": "D4RL/door/human-v2"}
    assert Listing.model_validate_json('{"dataset": "x-v1"}').dataset.version == 1
    with pytest.raises(pydantic.ValidationError, match="Malformed dataset ID"):
        Listing.model_validate({"dataset": "no-version"})
    with pytest.raises(pydantic.ValidationError, match="valid string"):
        Listing.model_validate({"dataset": 3})
    assert Listing.model_json_schema()["properties"]["dataset"]["type"] == "string"


# -- entries and versions --------------------------------------------------------


def test_latest_versions_keep_the_highest_version_per_name_and_namespace() -> None:
    ids = [DatasetId(t) for t in ["a/x-v1", "a/x-v10", "a/x-v2", "b/x-v0", "a/y-v3"]]
    assert latest_versions(ids) == [DatasetId("a/x-v10"), DatasetId("a/y-v3"), DatasetId("b/x-v0")]


def test_an_entry_reads_counts_leniently() -> None:
    entry = DatasetEntry(
        DatasetId("a/x-v1"),
        metadata={"total_episodes": 4, "total_steps": True, "description": 3},
    )
    assert entry.total_episodes == 4
    assert entry.total_steps is None
    assert entry.description is None
    assert DatasetEntry(DatasetId("a/x-v1")).total_episodes is None
    assert entry.to_dict() == {
        "id": "a/x-v1",
        "namespace": "a",
        "name": "x",
        "version": 1,
        "total_episodes": 4,
        "total_steps": None,
        "metadata": {"total_episodes": 4, "total_steps": True, "description": 3},
    }
    failed = DatasetEntry(DatasetId("y-v0"), error=CorruptMetadataError("broken"))
    assert failed.to_dict() == {
        "id": "y-v0",
        "namespace": None,
        "name": "y",
        "version": 0,
        "error": "broken",
    }


# -- the catalog ---------------------------------------------------------------


def test_the_catalog_holds_every_namespace_and_dataset_and_survives_corrupt_files() -> None:
    store = InMemoryNamespaceRepository()
    service = NamespaceService(store)
    service.create("D4RL/door", description="Door tasks", metadata={"display_name": "Door"})
    service.create("D4RL/pen")
    store.write_marker(NamespaceId("D4RL/pen"), b"{broken")
    store.add_dataset(NamespaceId("D4RL/door"), "human-v2", b'{"total_episodes": 25}')
    store.add_dataset(NamespaceId("D4RL/pen"), "cloned-v1", b"[]")
    # A dataset in a folder that is no namespace: the folder still shows in the tree.
    store.add_dataset(NamespaceId("loose/inner"), "play-v0")
    catalog = service.catalog()
    assert [str(entry.id) for entry in catalog.namespaces] == [
        "D4RL", "D4RL/door", "D4RL/pen", "loose", "loose/inner",
    ]  # fmt: skip
    door = catalog.namespace(NamespaceId("D4RL/door"))
    assert door.display_name == "Door"
    assert door.description == "Door tasks"
    pen = catalog.namespace(NamespaceId("D4RL/pen"))
    assert pen.metadata is None
    assert isinstance(pen.error, CorruptMetadataError)
    assert pen.display_name == "Pen"
    assert catalog.namespace(NamespaceId("loose")).metadata is None
    assert catalog.namespace(NamespaceId("loose")).error is None
    assert [c.id for c in catalog.children(None)] == [NamespaceId("D4RL"), NamespaceId("loose")]
    assert [c.id for c in catalog.children(NamespaceId("D4RL"))] == [
        NamespaceId("D4RL/door"),
        NamespaceId("D4RL/pen"),
    ]
    (human,) = catalog.datasets_in(NamespaceId("D4RL/door"))
    assert human.total_episodes == 25
    (cloned,) = catalog.datasets_in(NamespaceId("D4RL/pen"))
    assert cloned.error is not None
    assert "holds a JSON list" in str(cloned.error)


def test_a_catalog_without_datasets_reads_the_namespaces_alone_and_leniently() -> None:
    """Issue 19, point 2: ``list`` without --datasets reads through the service; a
    corrupt marker is its own entry's error, and no dataset is read or listed."""
    store = InMemoryNamespaceRepository()
    service = NamespaceService(store)
    service.create("D4RL/door", description="Door tasks")
    service.create("D4RL/pen")
    store.write_marker(NamespaceId("D4RL/pen"), b"{broken")
    store.add_dataset(NamespaceId("loose/inner"), "play-v0")
    catalog = service.catalog(datasets=False)
    assert [str(entry.id) for entry in catalog.namespaces] == ["D4RL", "D4RL/door", "D4RL/pen"]
    assert catalog.namespace(NamespaceId("D4RL/door")).description == "Door tasks"
    assert isinstance(catalog.namespace(NamespaceId("D4RL/pen")).error, CorruptMetadataError)
    assert catalog.datasets == []
    assert (catalog.source, catalog.prefix) == (store.url, None)


def test_a_catalog_under_a_prefix_starts_at_the_prefix() -> None:
    store = InMemoryNamespaceRepository()
    service = NamespaceService(store)
    service.create("D4RL/door")
    service.create("D4RL/door-x")
    store.add_dataset(NamespaceId("D4RL/door"), "human-v2")
    store.add_dataset(NamespaceId("D4RL/door-x"), "play-v0")
    catalog = service.catalog("D4RL/door")
    assert [entry.id for entry in catalog.namespaces] == [NamespaceId("D4RL/door")]
    assert [c.id for c in catalog.children(None)] == [NamespaceId("D4RL/door")]
    assert [entry.id for entry in catalog.datasets] == [DatasetId("D4RL/door/human-v2")]
    with pytest.raises(KeyError):
        catalog.namespace(NamespaceId("D4RL"))


def test_metadata_reads_only_the_kept_versions() -> None:
    store = InMemoryNamespaceRepository()
    service = NamespaceService(store)
    service.create("a")
    store.add_dataset(NamespaceId("a"), "x-v1", b"{broken")
    store.add_dataset(NamespaceId("a"), "x-v2", b'{"total_steps": 7}')
    (entry,) = service.list_datasets("a", latest=True, metadata=True)
    assert entry.id == DatasetId("a/x-v2")
    assert entry.total_steps == 7
    assert NamespaceMetadata() == service.get("a")
