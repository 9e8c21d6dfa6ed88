"""Remote benchmarks on real S3 servers (moto and SeaweedFS) on 127.0.0.1.

Requests are counted at the client with botocore's ``before-send`` event, so the
counts are what went over the wire, retries included.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.report import Report
from benchmarks.trees import namespace_names, write_tree
from minari_namespaces import (
    FsspecNamespaceRepository,
    LocalNamespaceRepository,
    NamespaceService,
)
from tests.servers import MotoServer, S3Server, SeaweedServer, isolate_aws_environment

N = 2_000


class RequestCounter:
    """Counts S3 requests by kind: LIST, GET, PUT, HEAD, other."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> None:
        method, url = request.method, request.url
        if method == "GET" and "list-type=2" in url:
            self.kinds["LIST"] += 1
        elif method in ("GET", "PUT", "HEAD"):
            self.kinds[method] += 1
        else:
            self.kinds["other"] += 1

    def take(self) -> Counter[str]:
        counts = self.kinds
        self.kinds = Counter()
        return counts


def counted_repository(server: S3Server, url: str) -> tuple[FsspecNamespaceRepository, RequestCounter]:
    repository = FsspecNamespaceRepository(url, **server.storage_options())
    counter = RequestCounter()
    repository.fs.connect()
    repository.fs.s3.meta.events.register("before-send.s3", counter)
    return repository, counter


def _timed(body: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = body()
    return time.perf_counter() - start, result


def bench_server(report: Report, server: S3Server, scratch: Path, *, target: bool) -> None:
    name = server.name
    pages = math.ceil(N / 1000)
    url = f"s3://{server.new_bucket()}/minari"
    remote, counter = counted_repository(server, url)
    source = scratch / f"{name}-source"
    write_tree(source, namespace_names(N))
    service = NamespaceService(LocalNamespaceRepository(source), remote)

    upload_seconds, _ = _timed(service.upload_tree)
    counts = counter.take()
    report.count(f"{name}: upload_tree of {N}: create-only PUTs", counts["PUT"], N)
    report.count(f"{name}: upload_tree of {N}: LIST requests", counts["LIST"], pages + 1,
                 note=f"{upload_seconds:.1f} s")
    report.count(f"{name}: upload_tree of {N}: HEAD requests", counts["HEAD"], 0)

    listed = service.list_remote()
    counts = counter.take()
    assert len(listed) == N
    report.count(f"{name}: list_remote of {N}: LIST requests", counts["LIST"], pages + 1)

    fresh = NamespaceService(LocalNamespaceRepository(scratch / f"{name}-down"), remote)
    tree_seconds, _ = _timed(fresh.download_tree)
    counts = counter.take()
    assert fresh.diff().in_sync
    counter.take()
    report.count(f"{name}: download_tree of {N}: GET requests", counts["GET"], N)
    report.count(f"{name}: download_tree of {N}: LIST requests", counts["LIST"], pages)
    report.count(f"{name}: download_tree of {N}: HEAD requests", counts["HEAD"], 0)

    naive_local = LocalNamespaceRepository(scratch / f"{name}-naive")

    def naive_download() -> None:
        for ns in listed:
            naive_local.create(ns, remote.get(ns))

    naive_seconds, _ = _timed(naive_download)
    counter.take()
    report.ratio(
        f"{name}: download_tree vs naive get+create loop ({N})",
        tree_seconds,
        naive_seconds,
        unit="total",
        limit=0.5 if target else None,
    )
    fetch_seconds, _ = _timed(lambda: remote.get_many(remote.list()))
    loop_seconds, _ = _timed(lambda: [remote.get(ns) for ns in listed])
    counter.take()
    report.ratio(
        f"{name}: batched list+get_many vs loop of get ({N})",
        fetch_seconds,
        loop_seconds,
        unit="total",
        limit=0.5 if target else None,
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


__all__ = ["run"]
