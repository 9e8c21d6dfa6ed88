"""Listing local datasets: ours and the real ``minari.list_local_datasets`` on one tree."""

from __future__ import annotations

import json
from pathlib import Path

import minari
import pytest

from minari_namespaces import LocalNamespaceRepository, NamespaceService

pytestmark = pytest.mark.compat

TREE = [
    "D4RL/door/human-v1",
    "D4RL/door/human-v2",
    "D4RL/door/expert-v2",
    "D4RL/door-x/play-v0",
    "D4RL/pen/cloned-v1",
    "cartpole-v10",
    "cartpole-v9",
]


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NamespaceService:
    root = tmp_path / "datasets"
    for steps, dataset_id in enumerate(TREE):
        data = root / dataset_id / "data"
        data.mkdir(parents=True)
        metadata = {"dataset_id": dataset_id, "total_steps": steps, "minari_version": "0.5.4"}
        (data / "metadata.json").write_text(json.dumps(metadata))
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return NamespaceService(LocalNamespaceRepository(root))


@pytest.mark.parametrize("prefix", [None, "D4RL", "D4RL/door", "D4RL/door-x"])
@pytest.mark.parametrize("latest", [False, True])
def test_the_same_datasets_and_metadata_as_minari(
    service: NamespaceService, prefix: str | None, latest: bool
) -> None:
    theirs = minari.list_local_datasets(prefix=prefix, latest_version=latest)
    ours = service.list_datasets(prefix, latest=latest, metadata=True)
    assert {str(entry.id): entry.metadata for entry in ours} == theirs
    # Locally Minari walks the prefix folder, so its prefix matches by segments too.
    if prefix == "D4RL/door":
        assert all(not key.startswith("D4RL/door-x") for key in theirs)
