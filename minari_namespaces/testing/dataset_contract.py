"""The dataset half of the repository contract: what every store lists and reads
of the datasets its namespaces hold.

:class:`~minari_namespaces.testing.contract.NamespaceRepositoryContract` includes
these tests; they need the harness's ``add_dataset`` (and, for metadata, its
``write_dataset_metadata``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from minari_namespaces.datasets import DatasetEntry, DatasetId
from minari_namespaces.errors import CorruptMetadataError, SkippedEntryWarning
from minari_namespaces.identifier import NamespaceId
from minari_namespaces.metadata import NamespaceMetadata
from minari_namespaces.repository import NamespaceRepository
from minari_namespaces.service import NamespaceService
from minari_namespaces.testing.harness import RepositoryHarness

__all__ = ["DatasetListingContract"]

#: Writes (``None``: removes) the ``data/metadata.json`` of a dataset in a namespace.
PlantMetadata = Callable[[NamespaceId | None, str, bytes | None], None]

#: The tree of the catalog's examples: two namespaces whose names share a prefix.
DOOR_TREE = {
    "D4RL/door": ["human-v1", "human-v2", "expert-v2"],
    "D4RL/door-x": ["play-v0"],
    "D4RL/pen": ["cloned-v1"],
}


def ids(*texts: str) -> list[DatasetId]:
    return [DatasetId(text) for text in texts]


def plant_door_tree(harness: RepositoryHarness) -> None:
    repo = harness.repository
    repo.create(NamespaceId("D4RL"), NamespaceMetadata())
    for namespace, names in DOOR_TREE.items():
        repo.create(NamespaceId(namespace), NamespaceMetadata(description=namespace))
        for name in names:
            harness.add_dataset(NamespaceId(namespace), name)


class DatasetListingContract:
    """Datasets beside namespaces, on every store (a mixin of the repository contract)."""

    def test_a_prefix_matches_by_segments_never_by_string(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        plant_door_tree(harness)
        door = ids("D4RL/door/expert-v2", "D4RL/door/human-v1", "D4RL/door/human-v2")
        assert repo.list_datasets(NamespaceId("D4RL/door")) == door
        assert repo.list_datasets(NamespaceId("D4RL/door-x")) == ids("D4RL/door-x/play-v0")
        everything = [*door, *ids("D4RL/door-x/play-v0", "D4RL/pen/cloned-v1")]
        assert repo.list_datasets() == everything
        assert repo.list_datasets(NamespaceId("D4RL")) == everything
        assert repo.list_datasets(NamespaceId("D4RL/missing")) == []

    def test_latest_keeps_the_highest_version_of_each_name(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        plant_door_tree(harness)
        harness.add_dataset(NamespaceId("D4RL/door"), "human-v10")
        service = NamespaceService(repo)
        latest = service.list_datasets("D4RL/door", latest=True)
        assert [entry.id for entry in latest] == ids("D4RL/door/expert-v2", "D4RL/door/human-v10")
        assert all(entry.metadata is None and entry.error is None for entry in latest)

    def test_top_level_datasets_have_no_namespace_and_come_first(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        plant_door_tree(harness)
        harness.add_dataset(None, "cartpole-v0")
        listed = repo.list_datasets()
        assert listed[0] == DatasetId("cartpole-v0")
        assert listed[0].namespace is None
        assert listed[1:] == repo.list_datasets(NamespaceId("D4RL"))

    def test_one_listing_gives_namespaces_and_datasets(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        plant_door_tree(harness)
        listing = repo.list_tree(NamespaceId("D4RL/door"))
        assert listing.namespaces == [NamespaceId("D4RL/door")]
        assert listing.datasets == repo.list_datasets(NamespaceId("D4RL/door"))
        whole = repo.list_tree()
        assert whole.namespaces == repo.list_namespaces()
        assert len(whole.datasets) == 5

    def test_a_dataset_is_neither_a_prefix_nor_a_container_of_datasets(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        plant_door_tree(harness)
        # A dataset's own folder is never searched for more datasets.
        harness.add_dataset(NamespaceId("D4RL/door/human-v1"), "inner-v0")
        assert repo.list_datasets(NamespaceId("D4RL/door/human-v1")) == []
        assert DatasetId("D4RL/door/human-v1/inner-v0") not in repo.list_datasets()

    def test_folders_that_are_not_dataset_ids_are_skipped_with_a_warning(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        plant_door_tree(harness)
        harness.add_dataset(NamespaceId("D4RL/pen"), "no-version")
        with pytest.warns(SkippedEntryWarning, match="no-version"):
            listed = repo.list_datasets(NamespaceId("D4RL/pen"))
        assert listed == ids("D4RL/pen/cloned-v1")

    @pytest.fixture
    def write_metadata(self, harness: RepositoryHarness) -> PlantMetadata:
        """The door tree planted, and the harness's writer of dataset metadata."""
        write = harness.write_dataset_metadata
        if write is None:
            pytest.skip("this harness cannot plant dataset metadata")
        plant_door_tree(harness)
        return write

    def test_dataset_metadata_is_read_in_one_batch_and_leniently(
        self, repo: NamespaceRepository, write_metadata: PlantMetadata
    ) -> None:
        write = write_metadata
        door = NamespaceId("D4RL/door")
        good = {"dataset_id": "D4RL/door/human-v2", "total_episodes": 25, "total_steps": 6729}
        write(door, "human-v2", json.dumps(good).encode())
        write(door, "human-v1", b'{"total_steps": NaN, "total_episodes": 3}')
        write(door, "expert-v2", b"{not json")
        write(NamespaceId("D4RL/pen"), "cloned-v1", None)
        # By id: an object store lists no dataset whose metadata.json is missing
        # (it is written last, so such a dataset is an interrupted upload).
        everything = ids(*(f"{ns}/{name}" for ns, names in DOOR_TREE.items() for name in names))
        entries = {str(entry.id): entry for entry in repo.read_datasets(everything)}
        assert entries["D4RL/door/human-v2"].metadata == good
        assert entries["D4RL/door/human-v2"].total_episodes == 25
        assert entries["D4RL/door/human-v2"].total_steps == 6729
        # Minari's own writer can put NaN in; a lenient reader keeps the rest.
        assert entries["D4RL/door/human-v1"].total_episodes == 3
        assert entries["D4RL/door/human-v1"].total_steps is None
        for broken in ("D4RL/door/expert-v2", "D4RL/pen/cloned-v1"):
            assert entries[broken].metadata is None
            assert isinstance(entries[broken].error, CorruptMetadataError)
            assert f"{broken}/data/metadata.json" in str(entries[broken].error)
        assert entries["D4RL/door-x/play-v0"].error is None

    def test_an_object_store_lists_no_dataset_without_its_metadata(
        self, harness: RepositoryHarness, repo: NamespaceRepository, write_metadata: PlantMetadata
    ) -> None:
        write_metadata(NamespaceId("D4RL/pen"), "cloned-v1", None)
        listed = DatasetId("D4RL/pen/cloned-v1") in repo.list_datasets()
        # A folder store shows a dataset by its data/ folder (a write renames it into
        # place whole); an object store by data/metadata.json, written last.
        assert listed == harness.lists_datasets_by_folder
        # Listed or not, its files are there: the namespace holding it is not empty.
        assert repo.has_datasets(NamespaceId("D4RL/pen"))

    def test_oversized_dataset_metadata_is_an_error_of_that_entry(
        self, repo: NamespaceRepository, write_metadata: PlantMetadata
    ) -> None:
        write_metadata(
            NamespaceId("D4RL/pen"), "cloned-v1", json.dumps({"x": "y" * 2**20}).encode()
        )
        (entry,) = repo.read_datasets([DatasetId("D4RL/pen/cloned-v1")])
        assert entry.metadata is None
        assert entry.error is not None
        assert "larger than" in str(entry.error)

    # -- hostile dataset metadata and folder names (issue 25) ---------------------------

    def _read_door(self, repo: NamespaceRepository) -> dict[str, DatasetEntry]:
        return {
            str(entry.id): entry
            for entry in repo.read_datasets(repo.list_datasets(NamespaceId("D4RL/door")))
        }

    @pytest.mark.parametrize(
        ("raw", "words"),
        [
            (b'{"description": "\\ud800"}', "not Unicode"),
            (b'{"x": ' + b"[" * 500 + b"]" * 500 + b"}", "deeper than"),
            (b'{"total_steps": ' + b"9" * 4300 + b"}", "digits"),
        ],
        ids=["lone-surrogate", "nested-500-deep", "4300-digit-integer"],
    )
    def test_dataset_metadata_past_a_read_limit_is_that_entrys_error_alone(
        self, repo: NamespaceRepository, write_metadata: PlantMetadata, raw: bytes, words: str
    ) -> None:
        """Issue 25, medium 1, 4 and 5: a lone surrogate, nesting 500 deep or an integer
        too long to print was read as metadata and broke the catalog, JSON output and
        the HTML page's sums for the whole listing."""
        write_metadata(NamespaceId("D4RL/door"), "human-v2", raw)
        entries = self._read_door(repo)
        bad = entries["D4RL/door/human-v2"]
        assert bad.metadata is None
        assert isinstance(bad.error, CorruptMetadataError)
        assert words in str(bad.error)
        assert "D4RL/door/human-v2/data/metadata.json" in str(bad.error)
        healthy = [entry for name, entry in entries.items() if name != "D4RL/door/human-v2"]
        assert len(healthy) == 2
        assert all(entry.error is None and entry.metadata == {} for entry in healthy)

    def test_a_dataset_folder_named_in_nfd_is_skipped_as_a_dataset_never_read_as_its_twin(
        self, harness: RepositoryHarness, repo: NamespaceRepository
    ) -> None:
        """Issue 25, medium 7 and a low one: a decomposed (NFD) dataset folder was
        listed under its composed (NFC) id, twice beside its twin, or reported with
        advice about namespace ids."""
        plant_door_tree(harness)
        door = NamespaceId("D4RL/door")
        harness.add_dataset(door, "cafe\u0301-v0")
        with pytest.warns(SkippedEntryWarning, match="dataset") as caught:
            alone = repo.list_datasets(door)
        assert DatasetId("D4RL/door/café-v0") not in alone
        assert all("namespace ids" not in str(warning.message) for warning in caught)
        harness.add_dataset(door, "caf\u00e9-v0")
        with pytest.warns(SkippedEntryWarning, match="dataset"):
            listed = repo.list_datasets(door)
        assert listed.count(DatasetId("D4RL/door/café-v0")) == 1
        assert len(listed) == len(alone) + 1
