"""Writes to the stand-in Hub whose answer is lost, refused or slow: never lost,
never doubled, never reported wrongly.

The Hub sometimes applies a commit and still answers 500 (or the connection drops
after the request was read), and ``huggingface_hub`` never resends a commit
itself. Each scenario ends with the remote compared to the source: every
namespace there, the registry exact, exactly the commits needed, the report true,
and a rerun in sync with no commit at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minari_namespaces import (
    FsspecNamespaceRepository,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
    RemoteError,
)
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.harnesses import HUB_ORG

pytestmark = pytest.mark.hub

MARKER = "namespace_metadata.json"
LOST = [500, None]
LOST_IDS = ["applied-answered-500", "applied-connection-dropped"]


def repo_id(top: str) -> str:
    return f"{HUB_ORG}/{top}"


def service_on(tmp_path: Path, **options: object) -> NamespaceService:
    return NamespaceService.from_urls(tmp_path / "local", f"hf://{HUB_ORG}", **options)


def twelve(service: NamespaceService) -> list[NamespaceId]:
    """``T``, three groups and eight leaves: 12 namespaces in one repository."""
    made = [
        "T",
        *(f"T/g{g}" for g in range(3)),
        *(f"T/g{g}/d{d}" for g in range(2) for d in range(4)),
    ]
    for name in made:
        service.create(name, description=name, exist_ok=True)
    return sorted(NamespaceId(name) for name in made)


def assert_in_sync(hub: HubStandIn, service: NamespaceService, made: list[NamespaceId]) -> None:
    """Every namespace on the Hub as in the source, the registry exact."""
    assert service.list_remote() == made
    for ns in made:
        assert service.get(ns, remote=True) == service.get(ns)
    root = json.loads(hub.files(repo_id("T"))[MARKER])
    assert root["namespaces"] == [str(ns) for ns in made if ns.depth > 1]
    assert service.diff().in_sync


def assert_rerun_commits_nothing(hub: HubStandIn, service: NamespaceService) -> None:
    hub.take_counts()
    report = service.upload_tree()
    assert report.up_to_date
    assert hub.take_counts()["commit"] == 0


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_an_upload_tree_whose_commit_lands_but_whose_answer_is_lost_returns_normally(
    hub: HubStandIn, tmp_path: Path, fault: int | None
) -> None:
    service = service_on(tmp_path)
    made = twelve(service)
    hub.fail_next("commit", fault, applied=True)
    hub.take_counts()

    report = service.upload_tree()

    assert report.copied == made
    assert hub.take_counts()["commit"] == 1  # looked for at the head, never resent
    assert hub.commits(repo_id("T")) == 2  # the repository's creation and one commit
    assert_in_sync(hub, service, made)
    assert_rerun_commits_nothing(hub, service)


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_a_single_upload_whose_answer_was_lost_is_reported_as_copied(
    hub: HubStandIn, tmp_path: Path, fault: int | None
) -> None:
    service = service_on(tmp_path)
    service.create("T/a", description="a")
    hub.fail_next("commit", fault, applied=True)

    report = service.upload("T/a")

    assert report.copied == [NamespaceId("T"), NamespaceId("T/a")]
    assert (report.skipped, report.unchanged) == ([], [])
    assert hub.commits(repo_id("T")) == 2
    assert_in_sync(hub, service, [NamespaceId("T"), NamespaceId("T/a")])
    assert_rerun_commits_nothing(hub, service)


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_a_create_whose_answer_was_lost_is_created_not_exists(
    hub: HubStandIn, fault: int | None
) -> None:
    remote = FsspecNamespaceRepository(f"hf://{HUB_ORG}")
    hub.fail_next("commit", fault, applied=True)
    remote.create(NamespaceId("T"), NamespaceMetadata(description="mine"))
    assert remote.get(NamespaceId("T")).description == "mine"
    assert hub.commits(repo_id("T")) == 2


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_a_compare_and_swap_whose_answer_was_lost_is_made_once(
    hub: HubStandIn, fault: int | None
) -> None:
    remote = FsspecNamespaceRepository(f"hf://{HUB_ORG}")
    remote.create(NamespaceId("T"), NamespaceMetadata(description="old"))
    remote.create(NamespaceId("T/a"), NamespaceMetadata(description="a"))
    service = NamespaceService(remote)  # the Hub as the service's own store
    commits = hub.commits(repo_id("T"))

    hub.fail_next("commit", fault, applied=True)
    service.replace("T", NamespaceMetadata(description="new"))
    hub.fail_next("commit", fault, applied=True)
    summary = service.update_properties("T/a", updates={"k": 1})

    assert summary.updated == ["k"]
    assert hub.commits(repo_id("T")) == commits + 2
    assert remote.get(NamespaceId("T")) == NamespaceMetadata(description="new")
    assert remote.get(NamespaceId("T/a")) == NamespaceMetadata(description="a", k=1)
    assert json.loads(hub.files(repo_id("T"))[MARKER])["namespaces"] == ["T/a"]


@pytest.mark.parametrize("fault", LOST, ids=["answered-500", "connection-dropped"])
def test_a_commit_that_failed_before_landing_is_sent_again_and_lands_once(
    hub: HubStandIn, tmp_path: Path, fault: int | None
) -> None:
    service = service_on(tmp_path)
    made = twelve(service)
    hub.fail_next("commit", fault)
    hub.take_counts()

    report = service.upload_tree()

    assert report.copied == made
    assert hub.take_counts()["commit"] == 2
    assert hub.commits(repo_id("T")) == 2
    assert_in_sync(hub, service, made)
    assert_rerun_commits_nothing(hub, service)


def test_an_upload_refused_three_times_with_429_waits_as_asked_and_completes(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(tmp_path)
    made = twelve(service)
    hub.throttle_next("commit", retry_after="1", times=3)
    hub.take_counts()

    report = service.upload_tree()

    assert report.copied == made
    assert hub.take_counts()["commit"] == 4  # three refused, one landed
    assert hub.commits(repo_id("T")) == 2
    assert_in_sync(hub, service, made)
    assert_rerun_commits_nothing(hub, service)


def test_a_throttled_read_waits_as_asked(hub: HubStandIn, tmp_path: Path) -> None:
    service = service_on(tmp_path)
    service.create("T/a", description="a")
    service.upload_tree()
    hub.throttle_next("resolve", retry_after="0", times=2)
    hub.take_counts()
    assert service.get("T/a", remote=True).description == "a"
    assert hub.take_counts()["resolve"] == 3


def test_throttling_past_the_retry_deadline_is_a_remote_error_saying_when_to_retry(
    hub: HubStandIn, tmp_path: Path
) -> None:
    service = service_on(tmp_path, retry_deadline=0)
    made = twelve(service)
    hub.throttle_next("commit", retry_after="120")

    with pytest.raises(RemoteError, match=f"hf://{HUB_ORG}.*rate limited.*try again after"):
        service.upload_tree()

    assert [name for name in hub.files(repo_id("T")) if name.endswith(MARKER)] == []
    service.upload_tree()
    assert_in_sync(hub, service, made)


@pytest.mark.parametrize("fault", LOST, ids=["http-500", "dropped"])
def test_a_commit_failing_past_the_retry_deadline_writes_nothing_and_a_rerun_completes(
    hub: HubStandIn, tmp_path: Path, fault: int | None
) -> None:
    service = service_on(tmp_path, retry_deadline=0)
    made = twelve(service)
    hub.fail_next("commit", fault)

    with pytest.raises(RemoteError, match=f"hf://{HUB_ORG}"):
        service.upload_tree()

    assert [name for name in hub.files(repo_id("T")) if name.endswith(MARKER)] == []
    service.upload_tree()
    assert_in_sync(hub, service, made)


def test_a_commit_whose_answer_comes_after_the_client_timed_out_is_not_sent_again(
    hub: HubStandIn, tmp_path: Path
) -> None:
    # Each request waits for its answer until the deadline (at least a second): a
    # commit answered 2 s late, with a deadline of 1 s, has timed out when it lands.
    service = service_on(tmp_path, retry_deadline=1)
    made = twelve(service)
    hub.slow_next("commit", 2.0)
    hub.take_counts()

    assert service.upload_tree().copied == made

    assert hub.take_counts()["commit"] == 1
    assert hub.commits(repo_id("T")) == 2
    assert_in_sync(hub, service, made)


def test_a_slow_commit_answer_is_waited_for(hub: HubStandIn, tmp_path: Path) -> None:
    service = service_on(tmp_path)
    made = twelve(service)
    hub.slow_next("commit", 1.0)
    hub.take_counts()
    assert service.upload_tree().copied == made
    assert hub.take_counts()["commit"] == 1
    assert_in_sync(hub, service, made)


@pytest.mark.parametrize("deadline", [-1, "soon", float("nan")])
def test_a_retry_deadline_that_is_not_seconds_is_refused(hub: HubStandIn, deadline: object) -> None:
    with pytest.raises(RemoteError, match="retry_deadline"):
        FsspecNamespaceRepository(f"hf://{HUB_ORG}", retry_deadline=deadline)


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
def test_a_repository_created_though_its_answer_was_lost_is_used(
    hub: HubStandIn, tmp_path: Path, fault: int | None
) -> None:
    service = service_on(tmp_path)
    made = twelve(service)
    hub.fail_next("create_repo", fault, applied=True)
    hub.take_counts()

    assert service.upload_tree().copied == made

    counts = hub.take_counts()
    assert (counts["create_repo"], counts["commit"]) == (2, 1)
    assert hub.commits(repo_id("T")) == 2
    assert_in_sync(hub, service, made)
