"""Datasets on the Hugging Face Hub, listed by us and by the real minari 0.5.4.

The real minari uploads real datasets (written by its own DataCollector) and its
namespaces to the stand-in Hub; our ``list_datasets(remote=True)`` then finds the
same ids as Minari's ``HuggingFaceStorage.list_datasets`` and the same metadata as
``minari.list_remote_datasets``. Where we differ on purpose (a prefix matches by
segments; a top-level dataset is ``name-vN``, not ``ORG/name-vN``), the difference
is pinned here and listed in ``docs/migrating.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import NamespaceService
from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.hub_datasets import (
    NAMESPACED,
    TOP_LEVEL,
    minari_ids,
    minari_metadata,
    publish,
)
from tests.support.harnesses import HUB_ORG

pytestmark = [pytest.mark.compat, pytest.mark.hub]


def our_ids(service: NamespaceService, prefix: str | None = None) -> set[str]:
    return {str(entry.id) for entry in service.list_datasets(prefix, remote=True)}


def our_metadata(
    service: NamespaceService, prefix: str | None = None, *, latest: bool = False
) -> dict[str, dict[str, Any]]:
    entries = service.list_datasets(prefix, remote=True, latest=latest, metadata=True)
    assert [entry.error for entry in entries] == [None] * len(entries)
    return {str(entry.id): dict(entry.metadata or {}) for entry in entries}


@pytest.fixture
def ours(tmp_path: Path) -> NamespaceService:
    return NamespaceService.from_urls(tmp_path / "ours", f"hf://{HUB_ORG}")


@pytest.fixture
def namespaced(hub: HubStandIn, collected: Path, fresh_hub_cache: Path) -> Path:
    """The namespaced datasets and their namespaces, uploaded by minari."""
    publish(collected, NAMESPACED)
    return collected


def test_we_list_the_datasets_minari_uploaded_as_minari_does(
    namespaced: Path, ours: NamespaceService
) -> None:
    assert our_ids(ours) == minari_ids(namespaced) == set(NAMESPACED)


def test_a_prefix_matches_as_in_minari_except_by_segments_not_by_string(
    namespaced: Path, ours: NamespaceService
) -> None:
    for prefix in ("D4RL", "D4RL/door-x", "minigrid", "minigrid/empty"):
        assert our_ids(ours, prefix) == minari_ids(namespaced, prefix), prefix
    # Minari's prefix is a string prefix, so its D4RL/door also holds D4RL/door-x;
    # ours is a namespace and matches whole segments (docs/migrating.md).
    theirs = minari_ids(namespaced, "D4RL/door")
    assert our_ids(ours, "D4RL/door") == {
        "D4RL/door/human-v1",
        "D4RL/door/human-v2",
        "D4RL/door/expert-v2",
    }
    assert theirs - our_ids(ours, "D4RL/door") == {"D4RL/door-x/play-v0"}


def test_our_metadata_is_minaris_list_remote_datasets(
    namespaced: Path, ours: NamespaceService
) -> None:
    theirs = minari_metadata(namespaced)
    assert sorted(theirs) == sorted(NAMESPACED)
    assert our_metadata(ours) == theirs
    assert our_metadata(ours, "D4RL") == minari_metadata(namespaced, prefix="D4RL")
    for dataset_id, metadata in our_metadata(ours).items():
        assert metadata["dataset_id"] == dataset_id


def test_latest_keeps_the_versions_minaris_latest_version_keeps(
    namespaced: Path, ours: NamespaceService
) -> None:
    theirs = minari_metadata(namespaced, latest_version=True)
    assert sorted(theirs) == [
        "D4RL/door-x/play-v0",
        "D4RL/door/expert-v2",
        "D4RL/door/human-v2",
        "minigrid/empty/random-v0",
    ]
    assert our_metadata(ours, latest=True) == theirs


@pytest.mark.usefixtures("fresh_hub_cache")
def test_a_top_level_dataset_is_name_vn_here_and_org_slash_name_vn_in_minari(
    hub: HubStandIn, collected: Path, ours: NamespaceService
) -> None:
    from huggingface_hub.errors import RepositoryNotFoundError

    publish(collected, [*NAMESPACED, TOP_LEVEL])
    assert f"{HUB_ORG}/{TOP_LEVEL}" in hub.repos()
    # Minari 0.5.4 yields the repository's id for a dataset with no namespace...
    assert minari_ids(collected) == {*NAMESPACED, f"{HUB_ORG}/{TOP_LEVEL}"}
    # ...which is no dataset id: its own metadata read then looks for the repository
    # ORG/ORG and the whole listing fails, and no prefix ever matches it.
    with pytest.raises(RepositoryNotFoundError):
        minari_metadata(collected)
    assert minari_ids(collected, "cartpole") == set()
    # Ours is the id the dataset was created and uploaded with, and its metadata says so.
    assert our_ids(ours) == {*NAMESPACED, TOP_LEVEL}
    assert our_metadata(ours)[TOP_LEVEL]["dataset_id"] == TOP_LEVEL


def test_we_list_the_files_where_minari_lists_its_registry(
    hub: HubStandIn, namespaced: Path, ours: NamespaceService
) -> None:
    repo = f"{HUB_ORG}/D4RL"
    root = json.loads(hub.files(repo)["namespace_metadata.json"])
    # A registry that a racing upload left without one entry, and with one whose
    # dataset has since been deleted.
    registry = [*(d for d in root["datasets"] if d != "D4RL/door/expert-v2"), "D4RL/door/gone-v0"]
    hub.put_file(
        repo, "namespace_metadata.json", json.dumps({**root, "datasets": registry}).encode()
    )
    assert minari_ids(namespaced) - our_ids(ours) == {"D4RL/door/gone-v0"}
    assert our_ids(ours) - minari_ids(namespaced) == {"D4RL/door/expert-v2"}
    assert our_ids(ours) == set(NAMESPACED)
