"""Real processes sharing one bucket: S3 (moto's server), GCS (fake-gcs-server)
and Azure Blob (Azurite), all on 127.0.0.1.

The server runs outside the workers; each worker is a fresh interpreter
(``spawn``) that builds its own ``FsspecNamespaceRepository`` from the URL and
storage options it is given, so nothing is shared but the server. A
``multiprocessing.Barrier`` lines the workers up so that they really collide.
Workers never assert: they report what they did, and the test judges it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
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
    NamespaceService,
)
from tests.support.emulators import AzureServer, GcsServer
from tests.support.nested_tree import TREE, contents, populate
from tests.support.processes import CONTEXT, TIMEOUT, error_text, run_workers
from tests.support.servers import S3Server

pytestmark = pytest.mark.processes

ROUNDS = 8
ADDERS = 4
KEYS_PER_ADDER = 100
CREATORS = 6
SHARED = "shared/counter"


@dataclass(frozen=True)
class Bucket:
    """A fresh bucket on one server: the URL of a store in it, and its options."""

    url: str
    options: dict[str, Any]

    def store(self, url: str | None = None) -> FsspecNamespaceRepository:
        return FsspecNamespaceRepository(url or self.url, **self.options)


@pytest.fixture(params=["moto", "gcs", "azure"])
def bucket(request: pytest.FixtureRequest) -> Bucket:
    name = "moto_s3" if request.param == "moto" else request.param
    server: S3Server | GcsServer | AzureServer = request.getfixturevalue(name)
    return Bucket(f"{server.protocol}://{server.new_bucket()}/minari", server.storage_options())


# -- two processes uploading the same tree at once --------------------------------------


@dataclass(frozen=True)
class Uploader:
    """What one uploading process is given: its own local store and the remote."""

    worker: int
    local_root: str
    remote_urls: list[str]
    options: dict[str, Any]


def upload_same_tree(job: Uploader, barrier: Barrier, results: Queue[Any]) -> None:
    rounds: list[tuple[str, list[str], list[str]]] = []
    for url in job.remote_urls:
        service = NamespaceService(
            LocalNamespaceRepository(job.local_root), FsspecNamespaceRepository(url, **job.options)
        )
        barrier.wait(timeout=TIMEOUT)
        try:
            with warnings.catch_warnings():
                # The process that loses a namespace keeps it and says so.
                warnings.simplefilter("ignore")
                report = service.upload_tree()
        except Exception as error:
            rounds.append((error_text(error), [], []))
        else:
            copied = [str(ns) for ns in report.copied]
            unchanged = [str(ns) for ns in report.unchanged + report.skipped]
            rounds.append(("ok", copied, unchanged))
    results.put((job.worker, rounds))


def test_two_processes_uploading_one_tree_create_each_namespace_exactly_once(
    bucket: Bucket, tmp_path: Path
) -> None:
    urls = [f"{bucket.url}/round{number}" for number in range(ROUNDS)]
    roots = [tmp_path / f"local{worker}" for worker in range(2)]
    for root in roots:
        populate(LocalNamespaceRepository(root))
    barrier = CONTEXT.Barrier(2)

    jobs = [Uploader(worker, str(root), urls, bucket.options) for worker, root in enumerate(roots)]

    reports = dict(run_workers(upload_same_tree, [(job, barrier) for job in jobs]))

    everything = {str(ns) for ns in TREE}
    for number, url in enumerate(urls):
        (status_a, copied_a, skipped_a), (status_b, copied_b, skipped_b) = (
            reports[0][number],
            reports[1][number],
        )
        assert (status_a, status_b) == ("ok", "ok"), number
        assert set(copied_a) | set(copied_b) == everything, number
        assert set(copied_a) & set(copied_b) == set(), number
        assert set(skipped_a) == everything - set(copied_a), number
        assert set(skipped_b) == everything - set(copied_b), number
        assert contents(bucket.store(url)) == TREE


# -- four processes adding keys to one namespace ------------------------------------------


def add_keys(
    worker: int, url: str, options: dict[str, Any], barrier: Barrier, results: Queue[Any]
) -> None:
    # The remote store is this service's *local* one: update_properties runs there.
    service = NamespaceService(FsspecNamespaceRepository(url, **options))
    errors: list[str] = []
    barrier.wait(timeout=TIMEOUT)
    for number in range(KEYS_PER_ADDER):
        try:
            service.update_properties(SHARED, {f"w{worker}-k{number:03d}": number})
        except Exception as error:
            errors.append(error_text(error))
    results.put((worker, errors))


def test_concurrent_update_properties_lose_no_key(bucket: Bucket) -> None:
    url, options = bucket.url, bucket.options
    remote = bucket.store()
    assert remote.compare_and_swap
    NamespaceService(remote).create(SHARED, description="counted")
    barrier = CONTEXT.Barrier(ADDERS)

    reports = run_workers(add_keys, [(w, url, options, barrier) for w in range(ADDERS)])

    assert sorted(reports) == [(worker, []) for worker in range(ADDERS)]
    expected = {
        f"w{worker}-k{number:03d}": number
        for worker in range(ADDERS)
        for number in range(KEYS_PER_ADDER)
    }
    final = remote.get(NamespaceId(SHARED)).to_dict()
    assert final == {"description": "counted", **expected}
    assert len(final) == ADDERS * KEYS_PER_ADDER + 1


# -- six processes creating one namespace ---------------------------------------------


def create_one(
    worker: int, url: str, options: dict[str, Any], barrier: Barrier, results: Queue[Any]
) -> None:
    store = FsspecNamespaceRepository(url, **options)
    service = NamespaceService(store)
    barrier.wait(timeout=TIMEOUT)
    try:
        service.create(SHARED, description=f"creator {worker}")
    except NamespaceExistsError:
        results.put((worker, "exists"))
    except Exception as error:
        results.put((worker, error_text(error)))
    else:
        results.put((worker, "won"))


def test_of_six_processes_creating_one_namespace_exactly_one_wins(bucket: Bucket) -> None:
    NamespaceService(bucket.store()).create("shared", description="the parent")
    barrier = CONTEXT.Barrier(CREATORS)

    reports = dict(
        run_workers(create_one, [(w, bucket.url, bucket.options, barrier) for w in range(CREATORS)])
    )

    assert sorted(reports.values()) == ["exists"] * (CREATORS - 1) + ["won"]
    (winner,) = [worker for worker, outcome in reports.items() if outcome == "won"]
    assert bucket.store().get(NamespaceId(SHARED)).description == f"creator {winner}"
