"""The Hugging Face Hub, Minari's default remote, shared by the real ``minari``
0.5.4 (with ``huggingface_hub``) and by us, on the stand-in Hub.

Each side has its own ``MINARI_DATASETS_PATH``; ``MINARI_REMOTE`` is unset, so both
use ``hf://farama-minari``. What one uploads, the other lists and downloads with
the same bytes; interleaved uploads keep Minari's registry complete.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import minari.namespace as minari_namespace
import pytest

from minari_namespaces import NamespaceId, compat
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.harnesses import HUB_ORG

pytestmark = [pytest.mark.compat, pytest.mark.hub]

MARKER = "namespace_metadata.json"
TREE: dict[str, dict[str, Any]] = {
    "D4RL": {"description": "D4RL datasets", "homepage": "https://example.org"},
    "D4RL/door": {"description": "Door", "tasks": ["open", "close"]},
    "D4RL/door/human": {"description": "Human demonstrations", "episodes": 25},
    "D4RL/pen": {},
    "minigrid": {"description": "MiniGrid"},
}


class Side:
    """One tool in its own dataset folder."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
        self.root, self._monkeypatch, self.module = root, monkeypatch, module

    @contextmanager
    def active(self) -> Iterator[Any]:
        self._monkeypatch.setenv("MINARI_DATASETS_PATH", str(self.root))
        with warnings.catch_warnings():
            # Minari's download leaves huggingface_hub's cache folder behind and
            # warns about existing namespaces; neither is under test here.
            warnings.simplefilter("ignore", UserWarning)
            yield self.module

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self.active() as module:
            result = getattr(module, name)(*args, **kwargs)
        return list(result) if hasattr(result, "__next__") else result

    def marker(self, namespace: str) -> bytes:
        return self.root.joinpath(*namespace.split("/"), MARKER).read_bytes()


@pytest.fixture
def sides(hub: HubStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Side]:
    monkeypatch.delenv("MINARI_REMOTE", raising=False)
    return {
        "minari": Side(tmp_path / "minari", monkeypatch, minari_namespace),
        "ours": Side(tmp_path / "ours", monkeypatch, compat),
    }


def create_tree(side: Side, tree: dict[str, dict[str, Any]] = TREE) -> None:
    for name, data in tree.items():
        metadata = dict(data)
        side.call("create_namespace", name, metadata.pop("description", None), **metadata)


def upload_tree(side: Side, tree: dict[str, dict[str, Any]] = TREE) -> None:
    for name in tree:
        side.call("upload_namespace", name, None)


def test_compat_without_minari_remote_talks_to_farama_minari_on_the_hub(
    sides: dict[str, Side], hub: HubStandIn
) -> None:
    ours = sides["ours"]
    create_tree(ours)
    upload_tree(ours)
    assert hub.repos() == [f"{HUB_ORG}/D4RL", f"{HUB_ORG}/minigrid"]
    assert ours.call("list_remote_namespaces") == sorted(TREE)


def test_a_tree_we_upload_is_listed_and_downloaded_by_minari_with_the_same_bytes(
    sides: dict[str, Side],
) -> None:
    minari, ours = sides["minari"], sides["ours"]
    create_tree(ours)
    upload_tree(ours)
    assert sorted(minari.call("list_remote_namespaces")) == sorted(TREE)
    downloaded = sides["ours"].root.parent / "ours-download"
    ours_down = Side(downloaded, ours._monkeypatch, compat)
    for name in TREE:
        minari.call("download_namespace_metadata", name)
        ours_down.call("download_namespace_metadata", name)
        assert minari.marker(name) == ours_down.marker(name), name
    assert json.loads(minari.marker("D4RL"))["namespaces"] == [
        "D4RL/door",
        "D4RL/door/human",
        "D4RL/pen",
    ]
    assert minari.call("get_namespace_metadata", "D4RL/door") == TREE["D4RL/door"]


def test_a_tree_minari_uploads_is_listed_and_downloaded_by_us(
    sides: dict[str, Side],
) -> None:
    minari, ours = sides["minari"], sides["ours"]
    create_tree(minari)
    upload_tree(minari)
    assert ours.call("list_remote_namespaces") == sorted(TREE)
    for name in TREE:
        ours.call("download_namespace_metadata", name)
        minari_copy = minari.root.parent / "minari-download"
        Side(minari_copy, minari._monkeypatch, minari_namespace).call(
            "download_namespace_metadata", name
        )
        assert ours.marker(name) == minari_copy.joinpath(*name.split("/"), MARKER).read_bytes()
    for name, data in TREE.items():
        got = ours.call("get_namespace_metadata", name)
        got.pop("namespaces", None)
        assert got == data, name


def test_interleaved_uploads_by_both_tools_keep_the_registry_complete(
    sides: dict[str, Side], hub: HubStandIn
) -> None:
    minari, ours = sides["minari"], sides["ours"]
    # Minari's own regex wants segments of two characters or more.
    names = ["top", "top/m1", "top/o1", "top/m1/m2", "top/o1/o2", "top/m3", "top/o3"]
    for name in names:
        side = minari if name.rsplit("/", 1)[-1].startswith("m") else ours
        for level in NamespaceId(name).hierarchy():
            for each in (minari, ours):
                if str(level) not in each.call("list_local_namespaces"):
                    each.call("create_namespace", str(level))
        side.call("upload_namespace", name, None)
    registry = json.loads(hub.files(f"{HUB_ORG}/top")[MARKER])["namespaces"]
    assert sorted(registry) == sorted(names[1:])
    assert sorted(minari.call("list_remote_namespaces")) == sorted(names)
    assert ours.call("list_remote_namespaces") == sorted(names)
