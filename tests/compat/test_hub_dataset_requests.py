"""Requests to list datasets on the Hugging Face Hub: ours against minari 0.5.4's,
counted per route by the stand-in Hub on the same tree (counts are deterministic;
time is never asserted).

The tree: two repositories, ``D4RL`` and ``minigrid``, five datasets, all uploaded
by the real minari. Ours: one ``list_datasets`` and one tree listing per repository,
plus one read per dataset for metadata; nothing is cached between calls. Minari:
one ``list_datasets``, then ``hf_hub_download`` of each repository's root metadata
(and, for metadata, of each dataset's ``data/metadata.json``): a HEAD, and a GET
unless its download cache already holds that very file. Its first run (an empty
cache: a new machine, a CI job, files changed since) costs twice the requests per
file; once its cache holds every file, it costs as many requests as ours, HEADs
instead of listings and GETs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from minari_namespaces import NamespaceService
from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.hub_datasets import NAMESPACED, TOP_LEVEL, minari_ids, minari_metadata, publish
from tests.support.harnesses import HUB_ORG

pytestmark = [pytest.mark.compat, pytest.mark.hub]

REPOS = 2
DATASETS = len(NAMESPACED)


def reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NamespaceService:
    """Our service, and Minari with an empty download cache, as on a machine that
    did not upload the datasets."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "reader-cache"))
    return NamespaceService.from_urls(tmp_path / "ours", f"hf://{HUB_ORG}")


@pytest.mark.usefixtures("fresh_hub_cache")
def test_listing_datasets_costs_fewer_requests_than_minaris_first_run(
    hub: HubStandIn, collected: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(collected, NAMESPACED)
    ours = reader(tmp_path, monkeypatch)
    hub.take_counts()

    assert len(ours.list_datasets(remote=True)) == DATASETS
    ours_listing = hub.take_counts()
    assert len(minari_ids(collected)) == DATASETS
    minari_first = hub.take_counts()
    assert len(minari_ids(collected)) == DATASETS
    minari_cached = hub.take_counts()

    # 1 + one tree listing per repository.
    assert ours_listing == Counter(list_repos=1, tree=REPOS)
    # 1 + a HEAD and a GET of each root's namespace_metadata.json, then a HEAD each.
    assert minari_first == Counter(list_repos=1, resolve=2 * REPOS)
    assert minari_cached == Counter(list_repos=1, resolve=REPOS)
    assert ours_listing.total() == 3 < minari_first.total() == 5
    assert ours_listing.total() == minari_cached.total() == 3


@pytest.mark.usefixtures("fresh_hub_cache")
def test_listing_with_metadata_costs_fewer_requests_than_minaris_first_run(
    hub: HubStandIn, collected: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(collected, NAMESPACED)
    ours = reader(tmp_path, monkeypatch)
    hub.take_counts()

    entries = ours.list_datasets(remote=True, metadata=True)
    assert [entry.error for entry in entries] == [None] * DATASETS
    ours_listing = hub.take_counts()
    assert len(minari_metadata(collected)) == DATASETS
    minari_first = hub.take_counts()
    assert len(minari_metadata(collected)) == DATASETS
    minari_cached = hub.take_counts()

    # The listing above, then one GET per data/metadata.json, in one concurrent batch.
    assert ours_listing == Counter(list_repos=1, tree=REPOS, resolve=DATASETS)
    # Minari's listing, then a HEAD and a GET per data/metadata.json (a HEAD each
    # once cached).
    assert minari_first == Counter(list_repos=1, resolve=2 * REPOS + 2 * DATASETS)
    assert minari_cached == Counter(list_repos=1, resolve=REPOS + DATASETS)
    assert ours_listing.total() == 8 < minari_first.total() == 15
    assert ours_listing.total() == minari_cached.total() == 8


@pytest.mark.usefixtures("fresh_hub_cache")
def test_a_repository_without_root_metadata_costs_minari_more_even_when_cached(
    hub: HubStandIn, collected: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(collected, [*NAMESPACED, TOP_LEVEL])
    ours = reader(tmp_path, monkeypatch)
    hub.take_counts()

    assert len(ours.list_datasets(remote=True)) == DATASETS + 1
    ours_listing = hub.take_counts()
    minari_ids(collected)
    minari_first = hub.take_counts()
    minari_ids(collected)
    minari_cached = hub.take_counts()

    assert ours_listing == Counter(list_repos=1, tree=REPOS + 1)
    # The top-level dataset's repository has no namespace_metadata.json: a HEAD
    # that fails, then a HEAD (and a GET, uncached) of its data/metadata.json.
    assert minari_first == Counter(list_repos=1, resolve=2 * REPOS + 3)
    assert minari_cached == Counter(list_repos=1, resolve=REPOS + 2)
    assert ours_listing.total() == 4 < minari_cached.total() == 5 < minari_first.total() == 8
