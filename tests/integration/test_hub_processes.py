"""Real processes sharing the stand-in Hub.

The stand-in runs in the pytest process; each worker is a fresh interpreter
(``spawn``) that inherits ``HF_ENDPOINT`` and builds its own repository, so nothing
is shared but the server. A barrier lines the workers up so that they collide;
workers report what they did and the test judges it.
"""

from __future__ import annotations

import json
import time
import warnings
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from minari_namespaces import (
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceExistsError,
    NamespaceId,
    NamespaceMetadata,
    NamespaceService,
)
from minari_namespaces.testing.hub.server import HubStandIn
from tests.compat.hub_datasets import minari_at
from tests.support.harnesses import HUB_ORG
from tests.support.processes import CONTEXT, TIMEOUT, error_text, run_workers

pytestmark = [pytest.mark.processes, pytest.mark.hub]

URL = f"hf://{HUB_ORG}"
CREATORS = 6
MERGERS = 4
KEYS_PER_MERGER = 25


def create_one(worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    repository = FsspecNamespaceRepository(URL)
    barrier.wait(timeout=TIMEOUT)
    try:
        repository.create(NamespaceId("race/door"), NamespaceMetadata(description=str(worker)))
    except NamespaceExistsError:
        results.put((worker, "exists"))
    except Exception as error:
        results.put((worker, error_text(error)))
    else:
        results.put((worker, "created"))


def test_of_six_racing_creators_of_one_namespace_exactly_one_wins(hub: HubStandIn) -> None:
    FsspecNamespaceRepository(URL).create(NamespaceId("race"), NamespaceMetadata())
    barrier = CONTEXT.Barrier(CREATORS)
    reports = run_workers(create_one, [(worker, barrier) for worker in range(CREATORS)])
    outcomes = sorted(outcome for _, outcome in reports)
    assert outcomes == ["created"] + ["exists"] * (CREATORS - 1)
    winner = next(worker for worker, outcome in reports if outcome == "created")
    stored = FsspecNamespaceRepository(URL).get(NamespaceId("race/door"))
    assert stored.description == str(winner)
    assert json.loads(hub.files(f"{HUB_ORG}/race")["namespace_metadata.json"]) == {
        "namespaces": ["race/door"]
    }


def merge_keys(worker: int, barrier: Barrier, results: Queue[Any]) -> None:
    repository = FsspecNamespaceRepository(URL)
    target = NamespaceId("race/shared")
    barrier.wait(timeout=TIMEOUT)
    failures: list[str] = []
    for key in range(KEYS_PER_MERGER):

        def add(current: NamespaceMetadata, key: int = key) -> NamespaceMetadata:
            return current.merged({f"w{worker}-{key}": key})

        try:
            repository.modify(target, add)
        except Exception as error:
            failures.append(error_text(error))
    results.put((worker, failures))


def test_four_processes_merging_distinct_keys_into_one_namespace_lose_none(
    hub: HubStandIn,
) -> None:
    repository = FsspecNamespaceRepository(URL)
    repository.create_many(
        [
            (NamespaceId("race"), NamespaceMetadata()),
            (NamespaceId("race/shared"), NamespaceMetadata()),
        ]
    )
    barrier = CONTEXT.Barrier(MERGERS)
    reports = run_workers(merge_keys, [(worker, barrier) for worker in range(MERGERS)])
    assert [failures for _, failures in reports] == [[]] * MERGERS
    stored = repository.get(NamespaceId("race/shared")).to_dict()
    assert set(stored) == {
        f"w{worker}-{key}" for worker in range(MERGERS) for key in range(KEYS_PER_MERGER)
    }


def upload_tree(worker: int, root: str, barrier: Barrier, results: Queue[Any]) -> None:
    service = NamespaceService(LocalNamespaceRepository(root), FsspecNamespaceRepository(URL))
    barrier.wait(timeout=TIMEOUT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the loser of a namespace keeps it and says so
            report = service.upload_tree()
    except Exception as error:
        results.put((worker, error_text(error), []))
    else:
        results.put((worker, "ok", [str(ns) for ns in report.copied]))


def test_two_processes_uploading_overlapping_trees_create_and_register_each_once(
    hub: HubStandIn, tmp_path: Path
) -> None:
    trees = [
        ["lab", "lab/a", "lab/a/x", "lab/shared", "lab/shared/deep", "other"],
        ["lab", "lab/b", "lab/b/y", "lab/shared", "lab/shared/deep", "third"],
    ]
    roots = []
    for worker, names in enumerate(trees):
        root = tmp_path / f"local{worker}"
        service = NamespaceService(LocalNamespaceRepository(root))
        for name in names:
            service.create(name, description=f"{name} by {worker}", exist_ok=True)
        roots.append(str(root))
    barrier = CONTEXT.Barrier(2)
    reports = run_workers(
        upload_tree, [(worker, root, barrier) for worker, root in enumerate(roots)]
    )
    assert [status for _, status, _ in reports] == ["ok", "ok"]
    every = sorted({name for names in trees for name in names}, key=NamespaceId)
    copied = sorted((name for _, _, names in reports for name in names), key=NamespaceId)
    assert copied == every  # each namespace created by exactly one of them
    assert [str(ns) for ns in FsspecNamespaceRepository(URL).list_namespaces()] == every
    registry = json.loads(hub.files(f"{HUB_ORG}/lab")["namespace_metadata.json"])["namespaces"]
    assert registry == [name for name in every if name.startswith("lab/")]


def download_datasets(root: str) -> None:
    NamespaceService.from_urls(root, URL).download_tree("D4RL", datasets=True)


def test_a_download_killed_mid_way_lists_no_half_dataset_and_the_next_run_completes(
    hub: HubStandIn, tmp_path: Path
) -> None:
    import minari

    from tests.integration.test_hub_datasets import DATASETS, files_in, write_tree

    source = tmp_path / "source"
    files = write_tree(source)
    NamespaceService.from_urls(source, URL).upload_tree("D4RL", datasets=True)
    # Two of the three LFS files stall on the object store: the download is caught
    # with one dataset whole at most and the others staged.
    hub.slow_next("cdn", 30.0, times=2)
    target = tmp_path / "target"
    process = CONTEXT.Process(target=download_datasets, args=(str(target),))
    hub.take_counts()
    process.start()
    deadline, asked = time.monotonic() + TIMEOUT, 0
    while asked < 2:  # both stalled requests arrived: the download is mid-way
        assert time.monotonic() < deadline, "the download never reached the object store"
        time.sleep(0.05)
        asked += hub.take_counts()["cdn"]
    process.kill()
    process.join(timeout=TIMEOUT)

    local = LocalNamespaceRepository(target)
    for dataset in local.list_datasets():
        assert files_in(target / str(dataset)) == files_in(source / str(dataset))
    with minari_at(target):
        assert set(minari.list_local_datasets()) == {str(one) for one in local.list_datasets()}
    NamespaceService.from_urls(target, URL).download_tree("D4RL", datasets=True)
    assert [str(one) for one in local.list_datasets()] == DATASETS
    assert {k: v for k, v in files_in(target).items() if k != "D4RL/namespace_metadata.json"} == {
        k: v for k, v in files.items() if k != "D4RL/namespace_metadata.json"
    }
    assert not [path for path in target.rglob("*") if ".minari-partial" in path.name]
