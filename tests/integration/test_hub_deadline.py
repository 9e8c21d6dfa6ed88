"""Every Hub call ends within ``retry_deadline`` (issue 25, the high defect).

``huggingface_hub`` retried a 429 on the ``tree``, ``list_repos`` and ``preupload``
routes by itself, ``Retry-After`` plus a second, five times, before our code saw it:
``Retry-After: 100000`` meant a wait of 100,001 s. And no request had a timeout: with
``retry_deadline=2`` an answer that took 25 s was waited out in full. Here the real
stand-in Hub refuses each route with ``Retry-After: 100000`` or answers late; each call
ends in our ``RemoteError`` after exactly one request of that route (counted by the
server: no wall-clock assertion), saying when to retry. A time limit turns a
regression into a failure instead of a hang.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from minari_namespaces import NamespaceService, RemoteError
from minari_namespaces.testing.hub.server import HubStandIn
from tests.support.deadline import within
from tests.support.harnesses import HUB_ORG

pytestmark = pytest.mark.hub

#: Far past any deadline: 27 hours and more.
HUGE_WAIT = "100000"


def service_on(tmp_path: Path, deadline: float) -> NamespaceService:
    service = NamespaceService.from_urls(
        tmp_path / "local", f"hf://{HUB_ORG}", retry_deadline=deadline
    )
    service.create("T/a", description="a", exist_ok=True)
    return service


def uploaded(tmp_path: Path, deadline: float) -> NamespaceService:
    """A service whose ``T`` and ``T/a`` are on the Hub already."""
    service = service_on(tmp_path, deadline)
    service.upload_tree()
    return service


def publishing(tmp_path: Path) -> Callable[[], object]:
    """Publish one dataset (its HDF5 file goes through Git LFS), within 2 s."""
    from tests.integration.test_hub_datasets import write_tree

    write_tree(tmp_path / "local", ["D4RL/door/human-v1"])
    service = NamespaceService.from_urls(tmp_path / "local", f"hf://{HUB_ORG}", retry_deadline=2)
    return lambda: service.upload_dataset("D4RL/door/human-v1")


def downloading(tmp_path: Path) -> Callable[[], object]:
    """Download that published dataset, within 2 s."""
    publishing(tmp_path)()
    service = NamespaceService.from_urls(tmp_path / "other", f"hf://{HUB_ORG}", retry_deadline=2)
    return lambda: service.download_dataset("D4RL/door/human-v1")


#: Each route only a dataset's files take (the LFS batch API, then the object store the
#: LFS content is uploaded to and downloaded from), and a call of ours that sends it.
DATASET_CALLS: dict[str, Callable[[Path], Callable[[], object]]] = {
    "lfs_batch": publishing,
    "lfs_upload": publishing,
    "cdn": downloading,
}


#: Each route of the Hub, and a call of ours that sends it.
CALLS: dict[str, Callable[[Path], Callable[[], object]]] = {
    "list_repos": lambda tmp: uploaded(tmp, 2).list_remote,
    "tree": lambda tmp: uploaded(tmp, 2).list_remote,
    "resolve": lambda tmp: lambda: uploaded(tmp, 2).get("T/a", remote=True),
    "repo_info": lambda tmp: service_on(tmp, 2).upload_tree,
    "create_repo": lambda tmp: service_on(tmp, 2).upload_tree,
    "preupload": lambda tmp: service_on(tmp, 2).upload_tree,
    "commit": lambda tmp: service_on(tmp, 2).upload_tree,
    **DATASET_CALLS,
}


@pytest.mark.parametrize("route", list(CALLS))
def test_a_429_asking_for_a_day_on_any_route_is_our_error_after_one_request(
    hub: HubStandIn, tmp_path: Path, route: str
) -> None:
    call = CALLS[route](tmp_path)
    hub.throttle_next(route, retry_after=HUGE_WAIT, times=10)
    hub.take_counts()
    with within(60), pytest.raises(RemoteError, match="rate limited") as caught:
        call()
    assert hub.take_counts()[route] == 1
    # A wait of more than a day is said with its date.
    assert re.search(r"try again after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", str(caught.value))
    assert f"hf://{HUB_ORG}" in str(caught.value)


@pytest.mark.parametrize("route", ["resolve", "tree", "list_repos"])
def test_an_answer_slower_than_the_deadline_is_our_error_not_a_wait(
    hub: HubStandIn, tmp_path: Path, route: str
) -> None:
    service = uploaded(tmp_path, 2)
    calls: dict[str, Callable[[], object]] = {
        "resolve": lambda: service.get("T/a", remote=True),
        "tree": service.list_remote,
        "list_repos": service.list_remote,
    }
    call = calls[route]
    hub.slow_next(route, 25.0)
    hub.take_counts()
    # Longer than the answer takes: a call that waits it out fails by not raising.
    with within(40), pytest.raises(RemoteError, match=f"hf://{HUB_ORG}"):
        call()
    # One request, given up on; none sent again past the deadline.
    assert hub.take_counts()[route] == 1


def test_a_failed_batch_names_the_namespace_asked_for_not_a_count_of_its_parents(
    hub: HubStandIn, tmp_path: Path
) -> None:
    """Issue 25, low: uploading one new namespace failed with "Could not create 3
    namespaces" (its parents travel in the same commit)."""
    service = NamespaceService.from_urls(tmp_path / "local", f"hf://{HUB_ORG}", retry_deadline=0)
    service.create("T/a/b")
    hub.fail_next("commit", 500)
    with pytest.raises(RemoteError) as caught:
        service.upload("T/a/b")
    assert "Could not create namespace 'T/a/b' (and the parents it lacks)" in str(caught.value)


def test_requests_of_others_in_the_process_keep_the_clients_own_retries(
    hub: HubStandIn, tmp_path: Path
) -> None:
    """The bound acts on this library's requests only: code that calls
    ``huggingface_hub`` itself (Minari) still gets the client's own retry of a 429:
    its ``http_backoff``, which each of its retried calls goes through (listing the
    first page of datasets only since huggingface_hub 2.1, above the floor)."""
    from huggingface_hub.utils import http_backoff

    uploaded(tmp_path, 2)
    hub.throttle_next("list_repos", retry_after="0")
    hub.take_counts()
    answer = http_backoff("GET", f"{hub.endpoint}/api/datasets")
    assert [entry["id"] for entry in answer.json()] == [f"{HUB_ORG}/T"]
    assert hub.take_counts()["list_repos"] == 2


@pytest.mark.parametrize("route", list(DATASET_CALLS))
def test_a_dataset_answer_slower_than_the_deadline_is_our_error_not_a_wait(
    hub: HubStandIn, tmp_path: Path, route: str
) -> None:
    call = DATASET_CALLS[route](tmp_path)
    hub.slow_next(route, 25.0)
    hub.take_counts()
    with within(40), pytest.raises(RemoteError, match=f"hf://{HUB_ORG}"):
        call()
    assert hub.take_counts()[route] == 1
