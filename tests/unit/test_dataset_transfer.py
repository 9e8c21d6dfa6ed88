"""Moving datasets, on in-memory stores: names without versions, progress, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, BinaryIO, TypeVar

import pytest

from minari_namespaces import NamespaceId, NamespaceService, TransferProgress
from minari_namespaces.dataset_files import DatasetFile, pool_runner
from minari_namespaces.datasets import DatasetId, DatasetName
from minari_namespaces.errors import DatasetNotFoundError, InvalidDatasetIdError
from minari_namespaces.testing import InMemoryNamespaceRepository

T = TypeVar("T")


@pytest.fixture
def both() -> NamespaceService:
    local = InMemoryNamespaceRepository("local")
    service = NamespaceService(local, InMemoryNamespaceRepository("remote"))
    service.create("D4RL/door")
    for name in ("human-v1", "human-v2", "human-v10", "expert-v0"):
        local.add_dataset(NamespaceId("D4RL/door"), name)
    local.put_dataset_file(DatasetId("D4RL/door/human-v2"), "data/big.bin", b"x" * 5000)
    return service


def test_a_name_without_version_is_a_dataset_name_and_finds_the_latest() -> None:
    name = DatasetName.parse("D4RL/door/human")
    assert isinstance(name, DatasetName)
    assert name == DatasetName(NamespaceId("D4RL/door"), "human")
    assert str(name) == "D4RL/door/human"
    assert DatasetName.parse("D4RL/door/human-v2") == DatasetId("D4RL/door/human-v2")
    ids = [DatasetId(f"D4RL/door/human-v{n}") for n in (1, 10, 2)]
    assert name.latest(ids) == DatasetId("D4RL/door/human-v10")
    assert DatasetName(None, "cartpole").latest(ids) is None
    assert DatasetName.parse("cartpole") == DatasetName(None, "cartpole")
    with pytest.raises(InvalidDatasetIdError):
        DatasetName.parse("D4RL/../human")


def test_progress_counts_files_and_bytes_up_to_the_totals(both: NamespaceService) -> None:
    seen: list[TransferProgress] = []
    report = both.upload_tree(datasets=True, progress=seen.append)
    last = seen[-1]
    assert (last.namespaces_done, last.namespaces_total) == (2, 2)
    assert (last.files_done, last.bytes_done) == (last.files_total, last.bytes_total)
    assert (last.files_total, last.bytes_total) == (report.files_copied, report.bytes_copied)
    assert report.bytes_copied > 5000
    assert [p.bytes_done for p in seen] == sorted(p.bytes_done for p in seen)


def test_one_dataset_by_name_is_the_latest_version_and_a_missing_one_is_refused(
    both: NamespaceService,
) -> None:
    report = both.upload_dataset("D4RL/door/human", dry_run=True)
    assert [plan.id for plan in report.datasets_planned] == [DatasetId("D4RL/door/human-v10")]
    assert report.dry_run
    assert both.list_datasets(remote=True) == []
    with pytest.raises(DatasetNotFoundError, match="D4RL/door/walk"):
        both.upload_dataset("D4RL/door/walk")
    with pytest.raises(DatasetNotFoundError):
        both.download_dataset("D4RL/door/human-v2")


class CountingOpens(InMemoryNamespaceRepository):
    """An in-memory store that counts the dataset files opened (contents read) and
    the bookkeeping records written."""

    opened = written = 0

    @contextmanager
    def open_dataset_file(self, dataset: DatasetId, file: DatasetFile) -> Iterator[BinaryIO]:
        self.opened += 1
        with super().open_dataset_file(dataset, file) as handle:
            yield handle

    def write_record(self, name: str, payload: bytes) -> None:
        self.written += 1
        super().write_record(name, payload)


def test_a_diff_after_an_in_sync_download_reads_no_file_and_writes_nothing() -> None:
    remote = CountingOpens("remote")
    NamespaceService(remote).create("D4RL/door")
    remote.put_dataset_file(DatasetId("D4RL/door/human-v2"), "data/big.bin", b"x" * 5000)
    remote.add_dataset(NamespaceId("D4RL/door"), "expert-v0")
    local = CountingOpens("local")
    service = NamespaceService(local, remote)
    assert len(service.download_tree(datasets=True).datasets_copied) == 2
    # Only a download copied between the two: its record, kept in the local store,
    # tells that both sides hold the same files.
    remote.opened = local.opened = remote.written = local.written = 0
    diff = service.diff(datasets=True)
    assert diff.in_sync
    assert diff.datasets_same == [DatasetId("D4RL/door/expert-v0"), DatasetId("D4RL/door/human-v2")]
    assert (local.opened, remote.opened) == (0, 0)
    assert (local.written, remote.written) == (0, 0)


class _ShutDownOnceStarted(ThreadPoolExecutor):
    """One worker, shut down as Ctrl-C shuts a transfer's pools (pending tasks
    cancelled) as soon as its first task runs: every later submit is refused."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.started = threading.Event()
        self.refused = threading.Event()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self.started.is_set():
            self.shutdown(wait=False, cancel_futures=True)
        try:
            future = super().submit(fn, *args, **kwargs)
        except RuntimeError:
            self.refused.set()
            raise
        self.started.wait()
        return future


def test_a_runner_refused_midway_waits_for_the_tasks_under_way_before_raising() -> None:
    # The caller removes a dataset's staging folder once the runner raises: no copy
    # may still be writing into it.
    pool = _ShutDownOnceStarted()
    ended: list[str] = []

    def under_way() -> None:
        pool.started.set()
        pool.refused.wait(timeout=30)
        time.sleep(0.2)  # still running when a runner that does not wait raises
        ended.append("under way")

    def never() -> None:
        ended.append("never")

    with pytest.raises(RuntimeError):
        pool_runner(pool)([under_way, never, never])
    assert ended == ["under way"]
    pool.shutdown()
