"""A real Minari dataset, written by Minari's own DataCollector, inside a namespace."""

from __future__ import annotations

from pathlib import Path

import minari
import pytest

from minari_namespaces import NamespaceNotEmptyError, NamespaceService, compat
from tests.compat.cartpole import cartpole_collector, collect_cartpole

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore:`eval_env` is set to None:UserWarning"),
]

DATASET_ID = "robots/cartpole/random-v0"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "datasets"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    compat.create_namespace("robots", "Robot tasks")
    compat.create_namespace("robots/cartpole", "CartPole")
    env = cartpole_collector()
    collect_cartpole(env, DATASET_ID, episodes=3, seed=7)
    env.close()
    assert (root / "robots" / "cartpole" / "random-v0" / "data").is_dir()
    return root


def test_the_dataset_is_not_a_namespace(store: Path) -> None:
    service = NamespaceService.from_urls(store)
    assert [str(ns) for ns in service.list_local()] == ["robots", "robots/cartpole"]
    assert compat.list_local_namespaces() == ["robots", "robots/cartpole"]
    assert service.children("robots/cartpole") == []
    assert service.local.has_datasets(service.list_local()[1])
    assert not service.exists("robots/cartpole/random-v0")


def test_deleting_the_namespace_of_a_dataset_is_refused_and_keeps_it(store: Path) -> None:
    service = NamespaceService.from_urls(store)
    with pytest.raises(NamespaceNotEmptyError, match="random-v0"):
        service.delete("robots/cartpole")
    with pytest.raises(ValueError, match="is not empty. All datasets must be deleted first"):
        compat.delete_namespace("robots/cartpole")
    assert DATASET_ID in minari.list_local_datasets()
    assert compat.get_namespace_metadata("robots/cartpole") == {"description": "CartPole"}


def test_minari_still_finds_and_loads_the_dataset_after_our_operations(store: Path) -> None:
    service = NamespaceService.from_urls(store)
    service.update_properties("robots/cartpole", updates={"maintainer": "me"})
    service.create("robots/cartpole/more", description="a sibling namespace")
    service.delete("robots/cartpole/more")
    assert DATASET_ID in minari.list_local_datasets()
    dataset = minari.load_dataset(DATASET_ID)
    assert dataset.total_episodes == 3


def test_no_namespace_can_be_made_inside_or_on_the_dataset(store: Path) -> None:
    service = NamespaceService.from_urls(store)
    with pytest.raises(ValueError, match="dataset"):
        service.create("robots/cartpole/random-v0")
    with pytest.raises(ValueError, match="dataset"):
        compat.create_namespace("robots/cartpole/random-v0/inner")
    assert DATASET_ID in minari.list_local_datasets()


def test_after_minari_deletes_the_dataset_our_delete_works(store: Path) -> None:
    minari.delete_dataset(DATASET_ID)
    compat.delete_namespace("robots/cartpole")
    NamespaceService.from_urls(store).delete("robots")
    assert compat.list_local_namespaces() == []
