"""Transfers between a local store and every kind of remote, end to end.

Each test runs against ``memory://``, ``file://``, moto's S3 server (under a key
prefix), SeaweedFS (at the root of a bucket), fake-gcs-server (at the root of a
bucket: Minari's GCS layout) and Azurite (under a prefix). The local
side is always a real ``LocalNamespaceRepository`` in a temporary folder; the
repository contract itself is proven in ``tests/contract`` and not repeated here.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import (
    CorruptMetadataError,
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    NamespaceWarning,
    RemoteNotConfiguredError,
    open_repository,
)
from tests.support.emulators import AzureServer, GcsServer
from tests.support.nested_tree import TREE, contents, files_under, populate
from tests.support.servers import S3Server

MARKER = "namespace_metadata.json"
REMOTES = ("memory", "file", "moto", "seaweed", "gcs", "azure")


@dataclass(frozen=True)
class Remote:
    """Where a remote store lives, and how to open it again."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def open(self) -> FsspecNamespaceRepository:
        return FsspecNamespaceRepository(self.url, **self.options)


def open_remote(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Remote:
    if kind == "memory":
        return Remote(f"memory://remote/{tmp_path.name}")
    if kind == "file":
        return Remote(f"file://{tmp_path / 'remote'}")
    if kind in ("gcs", "azure"):
        cloud: GcsServer | AzureServer = request.getfixturevalue(kind)
        bucket = cloud.new_bucket()
        url = f"gs://{bucket}" if kind == "gcs" else f"az://{bucket}/minari/datasets"
        return Remote(url, cloud.storage_options())
    server: S3Server = request.getfixturevalue(f"{kind}_s3")
    bucket = server.new_bucket()
    url = f"s3://{bucket}/minari/datasets" if kind == "moto" else f"s3://{bucket}"
    return Remote(url, server.storage_options())


@pytest.fixture(params=REMOTES)
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Remote:
    return open_remote(request.param, tmp_path, request)


@pytest.fixture
def service(remote: Remote, tmp_path: Path) -> NamespaceService:
    """The uploader: a local store in ``tmp_path/local`` and the remote."""
    return NamespaceService(LocalNamespaceRepository(tmp_path / "local"), remote.open())


@pytest.fixture
def fresh(remote: Remote, tmp_path: Path) -> NamespaceService:
    """A second user: an empty local store in ``tmp_path/fresh`` and the same remote."""
    return NamespaceService(LocalNamespaceRepository(tmp_path / "fresh"), remote.open())


def ids(*texts: str) -> list[NamespaceId]:
    return [NamespaceId(text) for text in texts]


def put(store: Any, text: str, **metadata: Any) -> None:
    store.create(NamespaceId(text), NamespaceMetadata.from_dict(metadata))


def plant(store: FsspecNamespaceRepository, key: str, raw: bytes) -> None:
    """Write raw bytes at ``key`` under the store's root, bypassing the repository."""
    fs = store.fs
    path = f"{fs._strip_protocol(store.url).rstrip('/')}/{key}"
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    fs.pipe_file(path, raw)


# -- a whole tree up and back down -------------------------------------------------------


def test_a_nested_tree_goes_up_and_comes_back_down_identical(
    service: NamespaceService, fresh: NamespaceService
) -> None:
    populate(service.local)
    tree_order = sorted(TREE)

    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        up = service.upload_tree()
    assert up.copied == tree_order
    assert up.skipped == []
    assert (up.source, up.target) == (service.local.url, service.remote.url)
    assert contents(service.remote) == TREE
    assert service.diff().in_sync

    assert fresh.list_local() == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        down = fresh.download_tree()
    assert down.copied == tree_order
    assert down.skipped == []
    assert contents(fresh.local) == TREE
    assert fresh.diff().in_sync
    assert fresh.diff().same == tree_order


def test_the_remote_holds_one_json_marker_object_per_namespace(
    service: NamespaceService,
) -> None:
    populate(service.local)
    service.upload_tree()
    remote = service.remote
    assert isinstance(remote, FsspecNamespaceRepository)
    root = remote.fs._strip_protocol(remote.url).rstrip("/")
    found = sorted(remote.fs.find(root, withdirs=False))
    expected = sorted(f"{root}/{ns}/{MARKER}" for ns in TREE)
    assert [path.removeprefix("/") for path in found] == [
        path.removeprefix("/") for path in expected
    ]
    for ns, metadata in TREE.items():
        assert json.loads(remote.fs.cat_file(f"{root}/{ns}/{MARKER}")) == metadata


def test_uploading_a_tree_again_is_up_to_date_without_a_warning(
    service: NamespaceService,
) -> None:
    populate(service.local)
    service.upload_tree()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        again = service.upload_tree()
    assert again.up_to_date
    assert (again.copied, again.skipped, again.replaced) == ([], [], [])
    assert again.unchanged == sorted(TREE)
    assert contents(service.remote) == TREE


def test_upload_tree_of_a_prefix_brings_its_ancestors_and_nothing_else(
    service: NamespaceService,
) -> None:
    populate(service.local)
    report = service.upload_tree("D4RL/door")
    assert report.copied == ids("D4RL", "D4RL/door", "D4RL/door/human")
    assert contents(service.remote) == {ns: TREE[ns] for ns in report.copied}


def test_download_tree_of_a_prefix_brings_its_ancestors_and_nothing_else(
    service: NamespaceService, fresh: NamespaceService
) -> None:
    populate(service.remote)
    report = fresh.download_tree("café/naïve")
    assert report.copied == ids("café", "café/naïve", "café/naïve/東京")
    assert contents(fresh.local) == {ns: TREE[ns] for ns in report.copied}


# -- one namespace: ancestors, reports, warnings, overwrite -------------------------------


def test_upload_copies_missing_ancestors_parents_first_and_reports_them(
    service: NamespaceService,
) -> None:
    populate(service.local)
    put(service.remote, "D4RL", description="the remote's own copy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        report = service.upload("D4RL/door/human")
    assert report.copied == ids("D4RL/door", "D4RL/door/human")
    assert report.skipped == []
    assert contents(service.remote) == {
        NamespaceId("D4RL"): {"description": "the remote's own copy"},
        NamespaceId("D4RL/door"): TREE[NamespaceId("D4RL/door")],
        NamespaceId("D4RL/door/human"): TREE[NamespaceId("D4RL/door/human")],
    }


def test_upload_gives_the_remote_an_empty_parent_the_local_store_lacks(
    service: NamespaceService,
) -> None:
    put(service.local, "solo/leaf", description="parentless")
    report = service.upload("solo/leaf")
    assert report.copied == ids("solo", "solo/leaf")
    assert contents(service.remote) == {
        NamespaceId("solo"): {},
        NamespaceId("solo/leaf"): {"description": "parentless"},
    }


def test_upload_tree_fills_a_gap_in_the_local_tree_with_an_empty_parent(
    service: NamespaceService,
) -> None:
    put(service.local, "solo/leaf", description="parentless")
    service.upload_tree()
    assert contents(service.remote) == {
        NamespaceId("solo"): {},
        NamespaceId("solo/leaf"): {"description": "parentless"},
    }


def test_download_tree_fills_a_gap_in_the_remote_tree_with_an_empty_parent(
    service: NamespaceService, fresh: NamespaceService
) -> None:
    put(service.remote, "solo/leaf", description="parentless")
    fresh.download_tree()
    assert contents(fresh.local) == {
        NamespaceId("solo"): {},
        NamespaceId("solo/leaf"): {"description": "parentless"},
    }


def test_upload_keeps_an_existing_target_with_a_warning(service: NamespaceService) -> None:
    populate(service.local)
    put(service.remote, "D4RL/door", description="remote door")
    with pytest.warns(NamespaceWarning, match=r"'D4RL/door'.*overwrite=True"):
        report = service.upload("D4RL/door")
    assert report.copied == ids("D4RL")
    assert report.skipped == ids("D4RL/door")
    assert service.get("D4RL/door", remote=True).to_dict() == {"description": "remote door"}
    assert service.get("D4RL", remote=True).to_dict() == TREE[NamespaceId("D4RL")]


def test_upload_with_overwrite_replaces_the_existing_target(service: NamespaceService) -> None:
    populate(service.local)
    put(service.remote, "D4RL", description="remote root")
    put(service.remote, "D4RL/door", description="remote door", stale=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        report = service.upload("D4RL/door", overwrite=True)
    assert report.copied == ids("D4RL/door")
    assert report.skipped == []
    assert contents(service.remote) == {
        NamespaceId("D4RL"): {"description": "remote root"},
        NamespaceId("D4RL/door"): TREE[NamespaceId("D4RL/door")],
    }


def test_download_copies_missing_ancestors_and_keeps_an_existing_namespace_with_a_warning(
    service: NamespaceService, fresh: NamespaceService
) -> None:
    populate(service.remote)
    put(fresh.local, "café/naïve/東京", description="mine")
    with pytest.warns(NamespaceWarning, match=r"'café/naïve/東京'.*overwrite=True"):
        report = fresh.download("café/naïve/東京")
    assert report.copied == ids("café", "café/naïve")
    assert report.skipped == ids("café/naïve/東京")
    assert contents(fresh.local) == {
        NamespaceId("café"): TREE[NamespaceId("café")],
        NamespaceId("café/naïve"): TREE[NamespaceId("café/naïve")],
        NamespaceId("café/naïve/東京"): {"description": "mine"},
    }


def test_download_with_overwrite_replaces_the_local_namespace(
    service: NamespaceService, fresh: NamespaceService
) -> None:
    populate(service.remote)
    put(fresh.local, "D4RL", description="mine")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NamespaceWarning)
        report = fresh.download("D4RL", overwrite=True)
    assert report.copied == ids("D4RL")
    assert contents(fresh.local) == {NamespaceId("D4RL"): TREE[NamespaceId("D4RL")]}


def test_download_validates_every_level_before_writing_anything(
    service: NamespaceService, fresh: NamespaceService, tmp_path: Path
) -> None:
    remote = service.remote
    assert isinstance(remote, FsspecNamespaceRepository)
    populate(remote)
    plant(remote, f"D4RL/door/{MARKER}", b'{"description": "cut off')
    with pytest.raises(CorruptMetadataError, match="D4RL/door"):
        fresh.download("D4RL/door/human")
    assert files_under(tmp_path / "fresh") == {}


def test_download_tree_validates_the_whole_subtree_before_writing_anything(
    service: NamespaceService, fresh: NamespaceService, tmp_path: Path
) -> None:
    remote = service.remote
    assert isinstance(remote, FsspecNamespaceRepository)
    populate(remote)
    plant(remote, f"café/naïve/東京/{MARKER}", b'["an", "array"]')
    with pytest.raises(CorruptMetadataError, match="東京"):
        fresh.download_tree()
    assert files_under(tmp_path / "fresh") == {}
    report = fresh.download_tree("D4RL")
    assert contents(fresh.local) == {ns: TREE[ns] for ns in report.copied}
    assert len(report.copied) == 4


# -- diff -----------------------------------------------------------------------------


def test_diff_names_what_only_one_side_holds_and_what_differs_and_writes_nothing(
    service: NamespaceService, tmp_path: Path
) -> None:
    populate(service.local)
    service.upload_tree()
    service.create("local/only")
    put(service.remote, "remote")
    put(service.remote, "remote/only", description="R")
    service.update_properties("D4RL/pen", {"edited": "locally"})
    service.remote.replace(NamespaceId("café"), NamespaceMetadata("changed remotely"))
    before = (files_under(tmp_path / "local"), contents(service.remote))

    diff = service.diff()

    assert diff.only_local == ids("local", "local/only")
    assert diff.only_remote == ids("remote", "remote/only")
    assert diff.different == ids("D4RL/pen", "café")
    assert diff.same == sorted(set(TREE) - set(ids("café", "D4RL/pen")))
    assert not diff.in_sync
    assert (files_under(tmp_path / "local"), contents(service.remote)) == before

    scoped = service.diff("D4RL")
    assert (scoped.only_local, scoped.only_remote, scoped.different) == ([], [], ids("D4RL/pen"))


# -- opening stores by URL ---------------------------------------------------------------


def test_from_urls_opens_a_local_path_and_a_remote_url_with_its_storage_options(
    remote: Remote, tmp_path: Path
) -> None:
    service = NamespaceService.from_urls(
        local=tmp_path / "mine", remote=remote.url, **remote.options
    )
    assert isinstance(service.local, LocalNamespaceRepository)
    assert service.local.url == str(tmp_path / "mine")
    assert service.remote.url == remote.open().url
    service.create("a/b", description="via from_urls")
    service.upload("a/b")
    assert contents(remote.open()) == {
        NamespaceId("a"): {},
        NamespaceId("a/b"): {"description": "via from_urls"},
    }


def test_from_urls_takes_the_remote_from_minari_remote_when_none_is_given(
    remote: Remote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_REMOTE", remote.url)
    service = NamespaceService.from_urls(local=str(tmp_path / "mine"), **remote.options)
    assert service.remote.url == remote.open().url
    service.create("from/env")
    service.upload_tree()
    assert remote.open().list_namespaces() == ids("from", "from/env")


def test_an_explicit_remote_wins_over_minari_remote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_REMOTE", "memory://from-environment")
    service = NamespaceService.from_urls(local=tmp_path, remote=f"file://{tmp_path / 'explicit'}")
    assert service.remote.url == f"file://{tmp_path / 'explicit'}"


@pytest.mark.parametrize("setting", [None, ""], ids=["unset", "empty"])
def test_from_urls_without_any_remote_uses_minari_datasets_path_and_has_no_remote(
    setting: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "home"))
    if setting is None:
        monkeypatch.delenv("MINARI_REMOTE", raising=False)
    else:
        monkeypatch.setenv("MINARI_REMOTE", setting)
    service = NamespaceService.from_urls()
    assert service.local.url == str(tmp_path / "home")
    with pytest.raises(RemoteNotConfiguredError, match="MINARI_REMOTE"):
        service.list_remote()


def test_open_repository_of_none_is_the_local_store_at_minari_datasets_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "home"))
    store = open_repository(None)
    assert isinstance(store, LocalNamespaceRepository)
    assert store.url == str(tmp_path / "home")


@pytest.mark.parametrize("spelling", [str, Path], ids=["str", "Path"])
def test_open_repository_of_a_plain_path_is_a_local_store(
    spelling: Callable[[Path], str | os.PathLike[str]], tmp_path: Path
) -> None:
    store = open_repository(spelling(tmp_path / "plain"))
    assert isinstance(store, LocalNamespaceRepository)
    assert store.url == str(tmp_path / "plain")


def test_a_file_url_and_a_plain_path_share_one_layout(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    plain = open_repository(folder)
    url = open_repository(f"file://{folder}")
    assert isinstance(plain, LocalNamespaceRepository)
    assert isinstance(url, FsspecNamespaceRepository)
    assert url.url == f"file://{folder}"

    populate(plain)
    assert contents(url) == TREE
    put(url, "D4RL/door/robot", description="written through file://")
    assert contents(plain) == {
        **TREE,
        NamespaceId("D4RL/door/robot"): {"description": "written through file://"},
    }
    robot = folder / "D4RL" / "door" / "robot" / MARKER
    assert json.loads(robot.read_bytes()) == {"description": "written through file://"}


def test_open_repository_of_a_memory_url_is_an_fsspec_store() -> None:
    store = open_repository("memory://somewhere/deep")
    assert isinstance(store, FsspecNamespaceRepository)
    assert store.url == "memory:///somewhere/deep"
    populate(store)
    assert contents(open_repository("memory://somewhere/deep")) == TREE


def test_open_repository_refuses_storage_options_for_a_plain_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="storage options only apply to URLs"):
        open_repository(tmp_path, key="k")
