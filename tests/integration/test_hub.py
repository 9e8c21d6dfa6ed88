"""The Hugging Face Hub remote on the stand-in Hub: Minari's layout and registry,
commits, request counts, failures and hostile content."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from minari_namespaces import (
    CorruptMetadataError,
    FsspecNamespaceRepository,
    InvalidNamespaceError,
    LocalNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    RemoteError,
    SkippedEntryWarning,
)
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.harnesses import HUB_ORG, hub_harness
from tests.support.nested_tree import files_under

pytestmark = pytest.mark.hub

MARKER = "namespace_metadata.json"


def repo_id(top: str) -> str:
    return f"{HUB_ORG}/{top}"


def root_of(hub: HubStandIn, top: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(hub.files(repo_id(top))[MARKER])
    return loaded


def service_on(hub: HubStandIn, tmp_path: Path, **options: object) -> NamespaceService:
    del hub  # the fixture points HF_ENDPOINT at the stand-in
    return NamespaceService.from_urls(tmp_path / "local", f"hf://{HUB_ORG}", **options)


def tree_of(service: NamespaceService, top: str, count: int) -> list[str]:
    """``top``, ``top/gN`` groups and ``top/gN/dM`` leaves: ``count`` namespaces."""
    made = [top]
    group = 0
    while len(made) < count:
        made.append(f"{top}/g{group}")
        for leaf in range(4):
            if len(made) < count:
                made.append(f"{top}/g{group}/d{leaf}")
        group += 1
    for name in made:
        service.create(name, description=name, exist_ok=True)
    return made


# -- layout and registry ----------------------------------------------------------


def test_each_top_level_namespace_is_a_dataset_repo_with_a_true_registry(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(hub, tmp_path)
    for name in ("D4RL", "D4RL/door", "D4RL/door/human", "minigrid"):
        service.create(name, description=name)
    service.upload_tree()
    assert hub.repos() == [repo_id("D4RL"), repo_id("minigrid")]
    assert set(hub.files(repo_id("D4RL"))) == {
        ".gitattributes",
        MARKER,
        f"door/{MARKER}",
        f"door/human/{MARKER}",
    }
    assert root_of(hub, "D4RL") == {
        "description": "D4RL",
        "namespaces": ["D4RL/door", "D4RL/door/human"],
    }
    assert root_of(hub, "minigrid") == {"description": "minigrid"}
    assert service.get("D4RL", remote=True).to_dict() == {"description": "D4RL"}
    assert service.diff().in_sync


def test_every_write_keeps_the_registry_exact_and_minaris_keys(
    hub: HubStandIn, tmp_path: Path
) -> None:
    hub.put_file(repo_id("T"), MARKER, b'{"description": "T", "datasets": ["T/a/ds-v0"]}')
    remote = FsspecNamespaceRepository(f"hf://{HUB_ORG}")
    remote.create(NamespaceId("T/a"), NamespaceMetadata())
    remote.create(NamespaceId("T/b"), NamespaceMetadata())
    assert root_of(hub, "T")["namespaces"] == ["T/a", "T/b"]
    remote.replace(NamespaceId("T"), NamespaceMetadata(description="new"))
    assert root_of(hub, "T") == {
        "description": "new",
        "datasets": ["T/a/ds-v0"],
        "namespaces": ["T/a", "T/b"],
    }
    remote.delete(NamespaceId("T/b"))
    assert root_of(hub, "T")["namespaces"] == ["T/a"]
    remote.delete(NamespaceId("T/a"))
    assert root_of(hub, "T")["namespaces"] == []


def test_a_registry_left_stale_by_a_racing_minari_is_listed_and_repaired(
    hub: HubStandIn, tmp_path: Path
) -> None:
    hub.put_file(repo_id("T"), MARKER, b'{"namespaces": ["T/gone", "../../etc"]}')
    hub.put_file(repo_id("T"), f"hidden/{MARKER}", b"{}")
    remote = FsspecNamespaceRepository(f"hf://{HUB_ORG}")
    assert remote.list_namespaces() == [NamespaceId("T"), NamespaceId("T/hidden")]
    remote.create(NamespaceId("T/new"), NamespaceMetadata())
    assert root_of(hub, "T")["namespaces"] == ["T/hidden", "T/new"]


def test_a_batch_in_one_repo_is_one_commit_with_its_registry(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(hub, tmp_path)
    made = tree_of(service, "T", 60)
    service.upload_tree()
    # The repository's creation, then one commit with all 60 and the registry.
    assert hub.commits(repo_id("T")) == 2
    assert root_of(hub, "T")["namespaces"] == sorted(made[1:], key=NamespaceId)


# -- request counts -----------------------------------------------------------------


def test_upload_tree_of_60_namespaces_costs_one_commit_and_a_handful_of_requests(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(hub, tmp_path)
    tree_of(service, "T", 60)
    hub.take_counts()
    service.upload_tree()
    counts = hub.take_counts()
    assert counts["commit"] == 1
    assert sum(counts.values()) <= 20, counts


def test_list_remote_costs_one_listing_plus_one_per_repository(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(hub, tmp_path)
    for top in ("a", "b", "c", "d", "e"):
        service.create(f"{top}/x/y")
    service.upload_tree()
    hub.take_counts()
    assert len(service.list_remote()) == 15
    counts = hub.take_counts()
    assert counts == {"list_repos": 1, "tree": 5}


def test_download_tree_lists_each_repository_once_and_reads_each_namespace_once(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(hub, tmp_path)
    made = tree_of(service, "T", 30)
    service.upload_tree()
    fresh = NamespaceService.from_urls(tmp_path / "down", f"hf://{HUB_ORG}")
    hub.take_counts()
    report = fresh.download_tree()
    counts = hub.take_counts()
    assert len(report.copied) == len(made)
    assert counts["resolve"] == len(made)
    # The listing, and one more for the dataset rule of the batch.
    assert counts["tree"] == 2
    assert counts["list_repos"] == 1
    assert counts["commit"] == 0


# -- refusals before anything is written ------------------------------------------------


@pytest.mark.parametrize("name", ["café", "-x", "x-", "a--b"])
def test_a_top_level_name_the_hub_refuses_is_refused_before_any_request(
    hub: HubStandIn, tmp_path: Path, name: str
) -> None:
    service = service_on(hub, tmp_path)
    service.create(f"{name}/child")
    hub.take_counts()
    with pytest.raises(InvalidNamespaceError, match="Hugging Face dataset repository"):
        service.upload_tree()
    assert hub.take_counts() == {}
    assert hub.repos() == []


# -- failures ---------------------------------------------------------------------------


def test_a_failed_read_is_a_remote_error_that_names_the_store(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(hub, tmp_path)
    service.create("T/a")
    service.upload_tree()
    hub.fail_next("resolve", 503)
    with pytest.raises(RemoteError, match=f"hf://{HUB_ORG}/T/a"):
        service.get("T/a", remote=True)


# -- hostile content ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1]", "not an object"),
        (b"\xff\xfe", "UTF-8"),
        (json.dumps({"x": "y" * (2 * 1024 * 1024)}).encode(), "1 MiB"),
    ],
    ids=["not-json", "array", "not-utf8", "oversized"],
)
def test_a_corrupt_marker_is_a_typed_error_and_nothing_is_written_locally(
    hub: HubStandIn, tmp_path: Path, raw: bytes, reason: str
) -> None:
    hub.put_file(repo_id("T"), MARKER, b"{}")
    hub.put_file(repo_id("T"), f"bad/{MARKER}", raw)
    service = service_on(hub, tmp_path)
    with pytest.raises(CorruptMetadataError, match=reason):
        service.get("T/bad", remote=True)
    with pytest.raises(CorruptMetadataError):
        service.download_tree()
    assert files_under(tmp_path / "local") == {}


def test_paths_that_are_not_safe_ids_are_skipped_with_one_warning(
    hub: HubStandIn, tmp_path: Path
) -> None:
    hub.put_file(repo_id("T"), MARKER, json.dumps({"namespaces": "not a list"}).encode())
    for path in ("a b", "x/../y", "c.d"):
        hub.put_file(repo_id("T"), f"{path}/{MARKER}", b"{}")
    hub.put_file(repo_id("T"), f"ok/{MARKER}", b"{}")
    service = service_on(hub, tmp_path)
    with pytest.warns(SkippedEntryWarning, match="3 key"):
        listed = service.list_remote()
    assert listed == [NamespaceId("T"), NamespaceId("T/ok")]
    with pytest.warns(SkippedEntryWarning):
        service.download_tree()
    local = LocalNamespaceRepository(tmp_path / "local")
    assert local.list_namespaces() == [NamespaceId("T"), NamespaceId("T/ok")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local"]


def test_a_namespace_inside_a_dataset_folder_on_the_hub_does_not_exist(
    hub: HubStandIn, tmp_path: Path
) -> None:
    hub.put_file(repo_id("T"), MARKER, b"{}")
    hub_harness(hub).add_dataset(NamespaceId("T"), "door-v0")
    hub.put_file(repo_id("T"), f"door-v0/inner/{MARKER}", b"{}")
    service = service_on(hub, tmp_path)
    assert not service.exists("T/door-v0/inner", remote=True)
    assert service.list_remote() == [NamespaceId("T")]
    assert service.has_datasets("T", remote=True)


# -- credentials and URLs ------------------------------------------------------------------


def test_the_token_is_sent_but_never_shown(
    hub: HubStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "hf_" + "S3cr3tT0k3nValue" * 2
    caplog.set_level(logging.DEBUG)
    service = service_on(hub, tmp_path, token=secret)
    service.create("T/a")
    service.upload_tree()
    hub.fail_next("resolve", 500)
    with pytest.raises(RemoteError) as caught:
        service.get("T/a", remote=True)
    assert any(secret in header for header in hub.authorizations)
    shown = [repr(service.remote), service.remote.url, str(caught.value)]
    shown += [record.getMessage() for record in caplog.records]
    assert not [text for text in shown if secret in text]


def test_both_spellings_of_the_url_open_the_same_store(hub: HubStandIn) -> None:
    one = FsspecNamespaceRepository(f"hf://{HUB_ORG}")
    other = FsspecNamespaceRepository(f"hf://datasets/{HUB_ORG}")
    assert one.url == other.url == f"hf://{HUB_ORG}"
    one.create(NamespaceId("T"), NamespaceMetadata())
    assert other.list_namespaces() == [NamespaceId("T")]


@pytest.mark.parametrize("url", ["hf://", "hf://org/repo", "hf://bad name"])
def test_a_url_that_names_no_organisation_is_refused(hub: HubStandIn, url: str) -> None:
    with pytest.raises(RemoteError, match="hf://ORG"):
        FsspecNamespaceRepository(url)


# -- the command line ----------------------------------------------------------------------


def test_every_remote_command_of_the_cli_works_on_the_hub(hub: HubStandIn, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from minari_namespaces.cli import app

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, [*args, "--remote", f"hf://{HUB_ORG}"])
        return result.exit_code, result.stdout

    up, down = str(tmp_path / "up"), str(tmp_path / "down")
    NamespaceService.from_urls(up).create("D4RL/door", description="Door")
    assert run("upload", "--tree", "--root", up)[0] == 0
    assert run("diff", "--root", up, "--json")[0] == 0
    code, listed = run("list", "remote", "--json")
    assert code == 0
    assert [entry["id"] for entry in json.loads(listed)] == ["D4RL", "D4RL/door"]
    code, shown = run("show", "D4RL/door", "--from-remote")
    assert (code, json.loads(shown)) == (0, {"description": "Door"})
    assert run("download", "D4RL/door", "--root", down)[0] == 0
    assert LocalNamespaceRepository(tmp_path / "down").list_namespaces() == [
        NamespaceId("D4RL"),
        NamespaceId("D4RL/door"),
    ]
    assert run("upload", "D4RL/door", "--overwrite", "--root", up)[0] == 0
