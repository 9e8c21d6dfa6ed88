"""Real processes sharing one S3 bucket (moto's server on 127.0.0.1).

The server runs in the pytest process; each worker is a fresh interpreter
(``spawn``) that builds its own ``FsspecNamespaceRepository`` from the endpoint
and bucket it is given, so nothing is shared but the server. A
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

from minari_namespaces import (
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceId,
    NamespaceService,
)
from tests.integration.nested_tree import TREE, contents, populate
from tests.processes import CONTEXT, TIMEOUT, error_text, run_workers
from tests.servers import S3Server

ROUNDS = 8
ADDERS = 4
KEYS_PER_ADDER = 100
SHARED = "shared/counter"


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
    moto_s3: S3Server, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    urls = [f"s3://{bucket}/round{number}" for number in range(ROUNDS)]
    roots = [tmp_path / f"local{worker}" for worker in range(2)]
    for root in roots:
        populate(LocalNamespaceRepository(root))
    barrier = CONTEXT.Barrier(2)

    jobs = [
        Uploader(worker, str(root), urls, moto_s3.storage_options())
        for worker, root in enumerate(roots)
    ]

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
        assert contents(FsspecNamespaceRepository(url, **moto_s3.storage_options())) == TREE


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


def test_concurrent_update_properties_on_s3_lose_no_key(moto_s3: S3Server, tmp_path: Path) -> None:
    url = f"s3://{moto_s3.new_bucket()}/minari"
    options = moto_s3.storage_options()
    remote = FsspecNamespaceRepository(url, **options)
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
