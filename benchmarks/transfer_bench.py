"""Dataset transfers: a namespace of 20 datasets (about 300 MB, 1,041 files, one
Arrow dataset of 1,001 files) moved with its namespaces, against ``cp -r`` and
rclone; an in-sync rerun against the bare listing; peak memory for a 1 GiB file.

Every copy is checked against its source (``diff -r``) before its time counts.
"""

from __future__ import annotations

import math
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.baselines import RCLONE_TRANSFERS, Rclone, bare_listing, copy_with_cp
from benchmarks.dataset_tree import MARKER, DatasetTree, build_dataset_tree, write_big_dataset
from benchmarks.memory_probe import Peak, run_in_subprocess
from benchmarks.report import Report
from minari_namespaces import (
    LocalNamespaceRepository,
    NamespaceService,
    TransferReport,
    open_repository,
)
from tests.support.servers import (
    ACCESS_KEY,
    SECRET_KEY,
    RequestCounter,
    S3Server,
    SeaweedServer,
    counted_repository,
    isolate_aws_environment,
)

#: Rounds of the local copy (each into a fresh folder); the best counts.
LOCAL_ROUNDS = 3
#: Rounds of each S3 copy, ours and rclone's taking turns; the best counts.
S3_ROUNDS = 2
BIG_FILE = 1 << 30
MEMORY_LIMIT = 64 << 20
#: Keys per S3 listing page.
PAGE = 1000


def _timed(body: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = body()
    return time.perf_counter() - start, result


@dataclass(frozen=True)
class Spent:
    """What a copy took: its wall time and the CPU (user, kernel) of this process
    and of the children that ended meanwhile (rclone), in seconds."""

    wall: float
    user: float
    kernel: float

    @property
    def cpu(self) -> float:
        return self.user + self.kernel

    def __str__(self) -> str:
        return f"user {self.user:.2f} s + kernel {self.kernel:.2f} s"


def _cpu(spent: Spent) -> float:
    return spent.cpu


def _spent(body: Callable[[], Any]) -> tuple[Spent, Any]:
    def used() -> tuple[float, float]:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return mine.ru_utime + children.ru_utime, mine.ru_stime + children.ru_stime

    user, kernel = used()
    wall, result = _timed(body)
    user_after, kernel_after = used()
    return Spent(wall, user_after - user, kernel_after - kernel), result


def _same_tree(source: Path, copy: Path) -> None:
    """Fail unless ``copy`` holds exactly ``source``'s files, byte for byte (our
    bookkeeping folder aside)."""
    subprocess.run(["diff", "-rq", "-x", ".minari-namespaces", str(source), str(copy)], check=True)


def _check_moved(report: TransferReport, tree: DatasetTree) -> None:
    dataset_files = tree.files - len(tree.namespace.split("/"))
    assert len(report.datasets_copied) == len(tree.dataset_ids), report.datasets_planned
    assert report.files_copied == dataset_files, (report.files_copied, dataset_files)


def _describe(tree: DatasetTree) -> str:
    return f"{len(tree.dataset_ids)} datasets, {tree.size / 1e6:.0f} MB, {tree.files:,} files"


def bench_local_copy(report: Report, tree: DatasetTree, scratch: Path) -> None:
    """upload_tree(datasets=True) into a fresh ``file://`` folder against ``cp -r``;
    then into a durable one (flushed before each dataset appears) against ``cp -r``
    followed by ``sync -f`` of the copy's file system."""
    top = tree.namespace.split("/")[0]
    for durable in (False, True):
        ours, theirs = [], []
        for index in range(LOCAL_ROUNDS):
            target = scratch / f"file-{index}"
            options = {"durable": True} if durable else {}
            service = NamespaceService(
                LocalNamespaceRepository(tree.root),
                open_repository(f"file://{target}", **options),
            )
            seconds, moved = _timed(partial(service.upload_tree, datasets=True))
            _check_moved(moved, tree)
            _same_tree(tree.root, target)
            ours.append(seconds)
            floor = scratch / f"cp-{index}"
            floor.mkdir()
            copy = partial(copy_with_cp, tree.root / top, floor, sync=durable)
            theirs.append(_timed(copy)[0])
            _same_tree(tree.root / top, floor / top)
            subprocess.run(["rm", "-rf", str(target), str(floor)], check=True)
        name, baseline = ("durable=True ", "cp -r + sync") if durable else ("", "cp -r")
        report.ratio(
            f"local -> file:// upload_tree(datasets) {name}vs {baseline} ({_describe(tree)})",
            min(ours),
            min(theirs),
            unit="total",
            limit=None if durable else 1.5,
            note=f"best of {LOCAL_ROUNDS}",
        )


def bench_s3(report: Report, tree: DatasetTree, server: S3Server, scratch: Path) -> None:
    """Up to SeaweedFS and back against rclone; then the in-sync reruns."""
    rclone = Rclone(server.endpoint, ACCESS_KEY, SECRET_KEY)
    described = _describe(tree)
    up: list[Spent] = []
    up_rclone: list[Spent] = []
    down: list[Spent] = []
    down_rclone: list[Spent] = []
    for index in range(S3_ROUNDS):
        bucket = server.new_bucket()
        remote, counter = counted_repository(server, f"s3://{bucket}/ours")
        service = NamespaceService(LocalNamespaceRepository(tree.root), remote)
        spent, moved = _spent(partial(service.upload_tree, datasets=True))
        _check_moved(moved, tree)
        up.append(spent)
        rclone_url = f"bench:{bucket}/rclone"
        up_rclone.append(_spent(partial(rclone.copy, str(tree.root), rclone_url))[0])

        local = scratch / f"down-{index}"
        fetcher = NamespaceService(LocalNamespaceRepository(local), remote)
        spent, moved = _spent(partial(fetcher.download_tree, datasets=True))
        _check_moved(moved, tree)
        _same_tree(tree.root, local)
        down.append(spent)
        floor = scratch / f"rclone-down-{index}"
        down_rclone.append(_spent(partial(rclone.copy, rclone_url, str(floor)))[0])
        _same_tree(tree.root, floor)
        if index < S3_ROUNDS - 1:
            subprocess.run(["rm", "-rf", str(local), str(floor)], check=True)
    note = f"best of {S3_ROUNDS}, rclone --transfers {RCLONE_TRANSFERS}"
    for name, ours, theirs in (
        ("local -> S3 (SeaweedFS) upload_tree(datasets)", up, up_rclone),
        ("S3 (SeaweedFS) -> local download_tree(datasets)", down, down_rclone),
    ):
        report.ratio(
            f"{name} vs rclone copy ({described})",
            min(spent.wall for spent in ours),
            min(spent.wall for spent in theirs),
            unit="total",
            limit=1.0,
            note=note,
        )
        # Where the time goes: both share two cores with the server, and both pay the
        # kernel for creating the files; the user CPU is each client's own.
        least, least_rclone = min(ours, key=_cpu), min(theirs, key=_cpu)
        report.ratio(
            f"{name} vs rclone copy: CPU, user + kernel",
            least.cpu,
            least_rclone.cpu,
            unit="CPU",
            limit=None,
            note=f"least of {S3_ROUNDS}; ours {least}, rclone {least_rclone}",
        )
    bench_in_sync(report, tree, (bucket, remote, counter), scratch / f"down-{index}", rclone)


def bench_in_sync(
    report: Report,
    tree: DatasetTree,
    uploaded: tuple[str, Any, RequestCounter],
    downloaded: Path,
    rclone: Rclone,
) -> None:
    """Rerun the last upload (to ``bucket/ours``, whose ``remote`` and ``counter``
    are given) and download (into ``downloaded``): nothing to move; requests counted."""
    bucket, remote, counter = uploaded
    pages = math.ceil(tree.files / PAGE)
    service = NamespaceService(LocalNamespaceRepository(tree.root), remote)
    fetcher = NamespaceService(LocalNamespaceRepository(downloaded), remote)
    floor, found = _timed(lambda: bare_listing(tree.root, remote.fs, f"{bucket}/ours"))
    assert found >= 2 * tree.files, found
    rclone_rerun, _ = _timed(lambda: rclone.copy(str(tree.root), f"bench:{bucket}/rclone"))
    # The namespace transfer sends a create-only PUT (If-None-Match: *) per namespace
    # and the store refuses those that exist: they write nothing, and count apart.
    create_only: list[str] = []

    def note_create_only(request: Any, **_: Any) -> None:
        if request.method == "PUT" and request.headers.get("If-None-Match") in (b"*", "*"):
            create_only.append(request.url)

    remote.fs.s3.meta.events.register("before-send.s3", note_create_only)
    for direction, rerun in (("upload", service.upload_tree), ("download", fetcher.download_tree)):
        counter.take()
        create_only.clear()
        seconds, again = _timed(partial(rerun, datasets=True))
        counts = counter.take()
        assert again.bytes_copied == 0, again.datasets_planned
        assert len(again.datasets_unchanged) == len(tree.dataset_ids)
        name = f"in-sync {direction}_tree rerun ({tree.files:,} files)"
        report.count(f"{name}: bytes moved", again.bytes_copied, 0)
        report.count(
            f"{name}: writes (PUT, DELETE; create-only marker PUTs aside)",
            counts["PUT"] + counts["DELETE"] - len(create_only),
            0,
        )
        report.count(
            f"{name}: create-only marker PUTs",
            len(create_only),
            None,
            note="refused by the store (412): the namespaces exist",
        )
        report.count(
            f"{name}: reads (GET, HEAD)",
            counts["GET"] + counts["HEAD"],
            None,
            note="the copy record and the namespace markers, never a dataset file",
        )
        report.count(f"{name}: LIST requests", counts["LIST"], None, note=f"{pages} page(s)")
        report.ratio(
            f"{name} vs the bare listing of both sides",
            seconds,
            floor,
            unit="total",
            limit=None,
            note=f"rclone's upload rerun: {rclone_rerun:.2f} s",
        )


def _big_tree(root: Path) -> Path:
    for namespace in ("big",):
        (root / namespace).mkdir(parents=True)
        (root / namespace / MARKER).write_text("{}")
    write_big_dataset(root, "big/warmup-v0", 4 << 20)
    return write_big_dataset(root, "big/one-v0", BIG_FILE)


def _memory_row(report: Report, name: str, peak: Peak) -> None:
    report.count(
        f"peak memory above baseline moving one 1 GiB file, {name} (MiB)",
        math.ceil(peak.growth / (1 << 20)),
        MEMORY_LIMIT // (1 << 20) - 1,
        note=f"baseline {peak.baseline / (1 << 20):.0f} MiB, after a warm-up transfer",
    )


def bench_memory(report: Report, scratch: Path, server: S3Server) -> None:
    """Peak memory of moving one 1 GiB file: local -> file://, local -> S3, S3 -> local."""
    source = scratch / "big"
    _big_tree(source)
    moves = [
        ("local -> file://", {"remote": f"file://{scratch / 'big-file'}"}, "upload", source),
        ("local -> S3", {"remote": f"s3://{server.new_bucket()}/big"}, "upload", source),
    ]
    moves.append(("S3 -> local", moves[1][1], "download", scratch / "big-down"))
    for name, where, direction, local in moves:
        options = server.storage_options() if where["remote"].startswith("s3://") else {}
        options.pop("skip_instance_cache", None)
        spec = {
            **where,
            "options": options,
            "local": str(local),
            "direction": direction,
            "warmup": "big/warmup-v0",
            "dataset": "big/one-v0",
        }
        _memory_row(report, name, run_in_subprocess(spec))
    _same_tree(source, scratch / "big-down")


def run(report: Report) -> None:
    isolate_aws_environment()
    with tempfile.TemporaryDirectory(prefix="minari-namespaces-bench-transfer-") as folder:
        scratch = Path(folder)
        tree = build_dataset_tree(scratch / "source")
        bench_local_copy(report, tree, scratch)
        seaweed = SeaweedServer()
        server = seaweed.start()
        try:
            bench_s3(report, tree, server, scratch)
            bench_memory(report, scratch, server)
        finally:
            seaweed.stop()


__all__ = ["run"]
