"""The scenarios of Minari's own ``tests/test_namespace.py``, against our compat module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import minari
import pytest

from minari_namespaces.compat import (
    create_namespace,
    delete_namespace,
    download_namespace_metadata,
    get_namespace_metadata,
    list_local_namespaces,
    list_remote_namespaces,
    update_namespace_metadata,
    upload_namespace,
)
from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.cartpole import cartpole_collector, collect_cartpole

pytestmark = pytest.mark.compat


@pytest.fixture(autouse=True)
def fresh_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    return tmp_path / "datasets"


@pytest.mark.parametrize("namespace", ["example_-123", "nested/nested/nested/namespace"])
@pytest.mark.parametrize(
    ("description", "kwargs", "expected"),
    [
        (None, {}, {}),
        ("my_desc", {}, {"description": "my_desc"}),
        (None, {"key": [1]}, {"key": [1]}),
        ("my_desc", {"key": [1]}, {"description": "my_desc", "key": [1]}),
    ],
)
def test_create_namespace_with_every_description_and_metadata_combination(
    namespace: str, description: str | None, kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    create_namespace(namespace, description, **kwargs)
    assert namespace in list_local_namespaces()
    assert get_namespace_metadata(namespace) == expected
    delete_namespace(namespace)
    assert namespace not in list_local_namespaces()


def test_update_replaces_the_metadata_and_a_second_create_fails() -> None:
    create_namespace("test_namespace")
    with pytest.raises(ValueError, match="Namespace 'test_namespace' already exists"):
        create_namespace("test_namespace")
    update_namespace_metadata("test_namespace", description="a new definition")
    assert get_namespace_metadata("test_namespace") == {"description": "a new definition"}


def test_nested_creation_creates_the_parents() -> None:
    create_namespace("test_namespace/nested", description="my description")
    assert set(list_local_namespaces()) == {"test_namespace", "test_namespace/nested"}
    assert get_namespace_metadata("test_namespace/nested") == {"description": "my description"}
    assert get_namespace_metadata("test_namespace") == {}


def test_nonexistent_namespaces_raise_does_not_exist() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        update_namespace_metadata("does_not/exist")
    with pytest.raises(ValueError, match="does not exist"):
        get_namespace_metadata("does_not/exist")


@pytest.mark.parametrize("namespace", ["/", "./", "../", "/namespace", "namespace/"])
def test_invalid_namespaces_raise_malformed(namespace: str) -> None:
    with pytest.raises(ValueError, match="Malformed namespace"):
        create_namespace(namespace)
    assert list_local_namespaces() == []


@pytest.mark.filterwarnings("ignore:`eval_env` is set to None:UserWarning")
def test_namespaced_datasets_keep_their_namespaces() -> None:
    env = cartpole_collector()

    def collect(dataset_id: str) -> None:
        collect_cartpole(env, dataset_id, episodes=4, seed=42)

    collect("nested/namespace/test-v1")
    assert list_local_namespaces() == ["nested", "nested/namespace"]
    assert get_namespace_metadata("nested/namespace") == {}
    update_namespace_metadata("nested/namespace", description="new description")
    collect("nested/namespace/test-v2")
    assert list_local_namespaces() == ["nested", "nested/namespace"]
    assert get_namespace_metadata("nested/namespace") == {"description": "new description"}
    assert list(minari.list_local_datasets()) == [
        "nested/namespace/test-v1",
        "nested/namespace/test-v2",
    ]
    with pytest.raises(ValueError, match="is not empty"):
        delete_namespace("nested/namespace")
    for dataset_id in ["nested/namespace/test-v1", "nested/namespace/test-v2"]:
        assert minari.load_dataset(dataset_id).total_episodes == 4
        minari.delete_dataset(dataset_id)
        assert dataset_id not in minari.list_local_datasets()
    env.close()
    delete_namespace("nested/namespace")
    assert list_local_namespaces() == ["nested"]


# -- the remote scenarios, on remotes that run here ---------------------------------


@pytest.fixture(params=["file", "moto"])
def remote(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point MINARI_REMOTE at a file:// folder or at moto S3 (through the environment)."""
    if request.param == "file":
        url = f"file://{tmp_path / 'remote'}"
    else:
        server = request.getfixturevalue("moto_s3")
        url = f"s3://{server.new_bucket()}/minari"
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.storage_options()["key"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.storage_options()["secret"])
    monkeypatch.setenv("MINARI_REMOTE", url)
    return url


def _publish(namespace: str, description: str, capsys: pytest.CaptureFixture[str]) -> None:
    create_namespace(namespace, description)
    upload_namespace(namespace, token=None)
    capsys.readouterr()
    _wipe_local()


def _wipe_local() -> None:
    for namespace in sorted(list_local_namespaces(), key=len, reverse=True):
        delete_namespace(namespace)


@pytest.mark.parametrize("namespace", ["D4RL/door", "D4RL/pen"])
def test_download_namespace_metadata_like_minaris_remote_test(
    remote: str, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(namespace, "Remote description", capsys)
    assert list_local_namespaces() == []
    assert namespace in list_remote_namespaces()

    download_namespace_metadata(namespace)
    assert list_local_namespaces() == [namespace]
    assert get_namespace_metadata(namespace) == {"description": "Remote description"}
    delete_namespace(namespace)

    create_namespace(namespace, description="Conflicting description")
    with pytest.warns(UserWarning, match="Skipping update for namespace"):
        download_namespace_metadata(namespace)
    assert get_namespace_metadata(namespace) == {"description": "Conflicting description"}
    download_namespace_metadata(namespace, overwrite=True)
    assert get_namespace_metadata(namespace) == {"description": "Remote description"}

    with pytest.raises(ValueError, match="doesn't exist in the remote Farama server."):
        download_namespace_metadata("non_existent_namespace")


def test_upload_namespace_prints_each_level_and_refuses_twice(
    remote: str, capsys: pytest.CaptureFixture[str]
) -> None:
    create_namespace("up/mid/leaf", "leaf")
    upload_namespace("up/mid/leaf", token=None)
    assert capsys.readouterr().out.splitlines() == [
        "Uploading namespace 'up'",
        "Uploading namespace 'up/mid'",
        "Uploading namespace 'up/mid/leaf'",
    ]
    assert list_remote_namespaces() == ["up", "up/mid", "up/mid/leaf"]
    with pytest.warns(
        UserWarning, match="Upload aborted. Namespace 'up/mid/leaf' is already in remote."
    ):
        upload_namespace("up/mid/leaf", token=None)
    create_namespace("up/mid/other")
    upload_namespace("up/mid/other", token=None)
    assert capsys.readouterr().out.splitlines() == ["Uploading namespace 'up/mid/other'"]
    with pytest.raises(ValueError, match="Namespace 'nowhere' does not exist locally."):
        upload_namespace("nowhere", token=None)


def test_an_unset_remote_is_minaris_hub_and_a_bad_one_says_which_urls_work(
    hub: HubStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MINARI_REMOTE", raising=False)
    hub.put_file("farama-minari/D4RL", "namespace_metadata.json", b"{}")
    assert list_remote_namespaces() == ["D4RL"]
    monkeypatch.setenv("MINARI_REMOTE", "not-a-url")
    with pytest.raises(ValueError, match="hf://ORG"):
        list_remote_namespaces()
