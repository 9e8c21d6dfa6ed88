"""Remote benchmarks on real servers on 127.0.0.1: S3 (moto and SeaweedFS), GCS
(fake-gcs-server) and Azure Blob (Azurite).

Requests are counted at the client (botocore's ``before-send`` event, aiohttp's
request trace for gcsfs, the Azure SDK's request hook), so the counts are what
went over the wire, retries included.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Report
from benchmarks.trees import namespace_names, write_tree
from minari_namespaces import (
    LocalNamespaceRepository,
    NamespaceMetadata,
    NamespaceService,
)
from tests.support.emulators import (
    AzureServer,
    AzuriteServer,
    FakeGcsServer,
    GcsServer,
    HttpCounter,
    counted_cloud_repository,
)
from tests.support.servers import (
    MotoServer,
    RequestCounter,
    S3Server,
    SeaweedServer,
    counted_repository,
    isolate_aws_environment,
)

N = 2_000
#: Keys per listing page.
PAGE = {"moto": 1000, "seaweed": 1000, "gcs": 1000, "azure": 5000}


def _timed(body: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = body()
    return time.perf_counter() - start, result


def bench_server(
    report: Report, server: S3Server | GcsServer | AzureServer, scratch: Path, *, target: bool
) -> None:
    name = server.name
    pages = math.ceil(N / PAGE[name])
    url = f"{server.protocol}://{server.new_bucket()}/minari"
    counter: RequestCounter
    if isinstance(server, S3Server):
        remote, counter = counted_repository(server, url)
    else:
        remote, counter = counted_cloud_repository(server, url)
    source = scratch / f"{name}-source"
    write_tree(source, namespace_names(N))
    service = NamespaceService(LocalNamespaceRepository(source), remote)

    upload_seconds, _ = _timed(service.upload_tree)
    counts = counter.take()
    report.count(f"{name}: upload_tree of {N}: create-only PUTs", counts["PUT"], N)
    report.count(
        f"{name}: upload_tree of {N}: LIST requests",
        counts["LIST"],
        pages + 1,
        note=f"{upload_seconds:.1f} s",
    )
    report.count(f"{name}: upload_tree of {N}: HEAD requests", counts["HEAD"], 0)

    listed = service.list_remote()
    counts = counter.take()
    assert len(listed) == N
    report.count(f"{name}: list_remote of {N}: LIST requests", counts["LIST"], pages + 1)
    if isinstance(server, S3Server):
        bench_listing_cpu(report, server, url, remote)
        counter.take()  # its listings are no part of what follows

    fresh = NamespaceService(LocalNamespaceRepository(scratch / f"{name}-down"), remote)
    tree_seconds, _ = _timed(fresh.download_tree)
    if isinstance(counter, HttpCounter):
        report.count(
            f"{name}: download_tree of {N}: most requests in flight at once",
            counter.peak,
            64,
            note="batches of 64 concurrent reads",
        )
    counts = counter.take()
    assert fresh.diff().in_sync
    counter.take()
    report.count(f"{name}: download_tree of {N}: GET requests", counts["GET"], N)
    report.count(
        f"{name}: download_tree of {N}: LIST requests",
        counts["LIST"],
        2 * pages,
        note="the subtree, then the dataset rule of the batch",
    )
    report.count(f"{name}: download_tree of {N}: HEAD requests", counts["HEAD"], 0)

    # The naive way with plain fsspec: one cat_file per namespace (s3fs sends a
    # HEAD before each GET, adlfs reads the properties first), then one local
    # create per namespace.
    naive_local = LocalNamespaceRepository(scratch / f"{name}-naive")
    markers = {
        ns: f"{remote.fs._strip_protocol(remote.url)}/{ns}/namespace_metadata.json" for ns in listed
    }

    def naive_download() -> None:
        for ns in listed:
            raw = remote.fs.cat_file(markers[ns])
            naive_local.create(ns, NamespaceMetadata.from_dict(json.loads(raw)))

    naive_seconds, _ = _timed(naive_download)
    report.ratio(
        f"{name}: download_tree vs naive cat_file+create loop ({N})",
        tree_seconds,
        naive_seconds,
        unit="total",
        limit=0.5 if target else None,
    )
    counter.take()
    fetch_seconds, _ = _timed(lambda: remote.get_many(remote.list_namespaces()))
    naive_fetch, _ = _timed(lambda: [remote.fs.cat_file(markers[ns]) for ns in listed])
    counts = counter.take()
    report.count(f"{name}: naive cat_file loop: HEAD requests", counts["HEAD"], None)
    loop_seconds, _ = _timed(lambda: [remote.get(ns) for ns in listed])
    counter.take()
    report.ratio(
        f"{name}: list+get_many vs naive cat_file loop ({N})",
        fetch_seconds,
        naive_fetch,
        unit="total",
        limit=0.5 if target else None,
    )
    report.ratio(
        f"{name}: list+get_many vs loop of our get (GET only) ({N})",
        fetch_seconds,
        loop_seconds,
        unit="total",
        limit=None,
    )


def _cpu(body: Callable[[], object]) -> float:
    """The process's CPU seconds (every thread) that ``body`` took, best of three."""
    best = math.inf
    for _ in range(3):
        start = time.process_time()
        body()
        best = min(best, time.process_time() - start)
    return best


def bench_listing_cpu(report: Report, server: S3Server, url: str, remote: Any) -> None:
    """CPU of a listing of the tree through the store's filesystem (its session
    parses ``LastModified`` quickly) against the same ``find`` in plain s3fs
    (botocore parsing every ``LastModified`` with ``dateutil``)."""
    plain = server.filesystem()
    prefix = url.removeprefix("s3://")
    fs = remote.fs
    keys = len(plain.find(prefix))

    def ours() -> None:
        fs.invalidate_cache()
        assert len(fs.find(prefix)) == keys

    def theirs() -> None:
        plain.invalidate_cache()
        assert len(plain.find(prefix)) == keys

    report.ratio(
        f"{server.name}: CPU of find() of {keys:,} keys, the store's vs plain s3fs",
        _cpu(ours),
        _cpu(theirs),
        unit="total",
        limit=None,
        note="process CPU, best of 3",
    )


def run(report: Report) -> None:
    isolate_aws_environment()
    with tempfile.TemporaryDirectory(prefix="minari-namespaces-bench-s3-") as folder:
        scratch = Path(folder)
        moto = MotoServer()
        server = moto.start()
        try:
            bench_server(report, server, scratch, target=False)
        finally:
            moto.stop()
        seaweed = SeaweedServer()
        server = seaweed.start()
        try:
            bench_server(report, server, scratch, target=True)
        finally:
            seaweed.stop()
        gcs = FakeGcsServer()
        try:
            bench_server(report, gcs.start(), scratch, target=False)
        finally:
            gcs.stop()
        azurite = AzuriteServer()
        try:
            bench_server(report, azurite.start(), scratch, target=False)
        finally:
            azurite.stop()


__all__ = ["run"]
