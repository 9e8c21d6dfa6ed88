"""Datasets moved to and from the Hub by us and by the real minari 0.5.4, side by side.

Real datasets written by Minari's ``DataCollector`` (one HDF5, one Arrow): what we
publish in one commit, minari lists with ``list_remote_datasets`` and fetches with
``download_dataset``, and ``load_dataset`` opens the copy with the source's steps;
what minari publishes (2N+2 commits), we download byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from minari_namespaces import DatasetId, NamespaceService
from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.formats import FORMATS, NAMESPACES, assert_same_steps, files_of
from tests.compat.hub_datasets import minari_at, minari_metadata
from tests.support.harnesses import HUB_ORG

pytestmark = [pytest.mark.compat, pytest.mark.hub]

REPO = f"{HUB_ORG}/D4RL"


@pytest.mark.usefixtures("fresh_hub_cache")
def test_what_we_publish_in_one_commit_minari_lists_downloads_and_loads(
    hub: HubStandIn, formats_source: Path, tmp_path: Path
) -> None:
    import minari

    source = formats_source
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
    hub: HubStandIn, formats_source: Path, tmp_path: Path
) -> None:
    import minari
    import minari.namespace as minari_namespace

    source = formats_source
    with minari_at(source):
        for ns in NAMESPACES:
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
