"""A source that does not read ahead (the Hub, a synchronous fsspec filesystem) is
read ``jobs`` files at once, whatever the target (issue 23's review): one task per
file, never a dataset's small files in turn in one task.

The sources here block each read until ``jobs`` reads are under way (a barrier):
reads made one after another break the barrier, and the copy fails with
``BrokenBarrierError``. Its timeout only keeps a regression from hanging the suite.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from fsspec.asyn import get_loop

from minari_namespaces import NamespaceService, open_repository
from minari_namespaces.dataset_files import DatasetFile, DatasetWrite, Runner
from minari_namespaces.datasets import DatasetId
from minari_namespaces.stores.dataset_folders import write_folder
from minari_namespaces.stores.drivers.async_files import write_split
from minari_namespaces.stores.local import LocalNamespaceRepository
from minari_namespaces.testing import InMemoryNamespaceRepository

JOBS = 4
#: Seconds a read waits for the others before the barrier breaks: never reached
#: when the reads overlap.
GUARD = 30


def _content(file: DatasetFile) -> bytes:
    return file.path.encode()[:1] * file.size


class BlockingSource:
    """Reads that each wait until ``JOBS`` of them are under way."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(JOBS, timeout=GUARD)

    @contextmanager
    def open(self, file: DatasetFile) -> Iterator[BinaryIO]:
        self.barrier.wait()
        yield io.BytesIO(_content(file))


@contextmanager
def _pool_runner() -> Iterator[Runner]:
    with ThreadPoolExecutor(max_workers=JOBS) as pool:

        def run(tasks: list[Callable[[], Any]]) -> list[Any]:
            futures = [pool.submit(task) for task in tasks]
            wait(futures)
            return [future.result() for future in futures]

        yield run


def _files() -> list[DatasetFile]:
    # A multiple of JOBS, so that every round of reads fills the barrier.
    return [DatasetFile(f"data/{n}/part-0.arrow", 100 + n) for n in range(3 * JOBS)]


def test_an_object_store_target_reads_jobs_small_files_at_once_from_a_slow_source() -> None:
    files = _files()
    stored: dict[str, bytes] = {}

    async def put(path: str, data: bytes) -> DatasetFile | None:
        await asyncio.sleep(0)
        stored[path] = data
        return None

    with _pool_runner() as run:
        write = DatasetWrite(files, BlockingSource().open, run=run, jobs=JOBS)
        written = write_split(
            get_loop(), put, write, files, folder="ds", largest=1000, stream=_never_streamed
        )
    assert stored == {f"ds/{file.path}": _content(file) for file in files}
    assert [digest.size for digest, _ in written] == [file.size for file in files]


def _never_streamed(file: DatasetFile) -> Any:
    raise AssertionError(f"{file.path} is small: it goes in one request")


def test_a_local_target_reads_jobs_files_at_once_from_a_slow_source(tmp_path: Path) -> None:
    files = _files()
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        with _pool_runner() as run:
            write = DatasetWrite(files, BlockingSource().open, run=run, jobs=JOBS)
            write_folder(fd, "human-v0", write, "local", durable=False)
    finally:
        os.close(fd)
    for file in files:
        assert (tmp_path / "human-v0" / file.path).read_bytes() == _content(file)


class HubLikeStore(InMemoryNamespaceRepository):
    """An in-memory store whose dataset reads wait on one another, as a store that
    reads nothing ahead would make them wait on the network."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.reads = BlockingSource()

    @contextmanager
    def open_dataset_file(self, dataset: DatasetId, file: DatasetFile) -> Iterator[BinaryIO]:
        with super().open_dataset_file(dataset, file) as held:
            raw = held.read()
        self.reads.barrier.wait()
        yield io.BytesIO(raw)


def test_a_download_from_a_store_that_reads_nothing_ahead_reads_jobs_files_at_once(
    tmp_path: Path,
) -> None:
    remote = HubLikeStore("remote")
    dataset = DatasetId("D4RL/door/human-v0")
    NamespaceService(remote).create("D4RL/door")
    for n in range(2 * JOBS):
        remote.put_dataset_file(dataset, f"data/{n}.arrow", b"e" * (10 + n))
    # A multiple of JOBS files in all (the store adds a few of its own).
    while len(remote.dataset_files([dataset])[dataset]) % JOBS:
        remote.put_dataset_file(dataset, f"data/extra-{n}.arrow", b"f")
        n += 1
    local = LocalNamespaceRepository(tmp_path)
    report = NamespaceService(local, remote).download_dataset(dataset, jobs=JOBS)
    assert report.datasets_copied == [dataset]
    assert (tmp_path / "D4RL/door/human-v0/data/7.arrow").read_bytes() == b"e" * 17


def test_stores_say_whether_their_reads_wait_on_the_network(tmp_path: Path) -> None:
    (tmp_path / "human-v0" / "data").mkdir(parents=True)
    (tmp_path / "human-v0" / "data" / "metadata.json").write_text("{}")
    dataset = DatasetId("human-v0")
    on_disk = [LocalNamespaceRepository(tmp_path), open_repository(tmp_path.as_uri())]
    waiting = [open_repository("memory://reads-overlap"), InMemoryNamespaceRepository("mem")]
    for store, reads_ahead in [*((s, True) for s in on_disk), *((s, False) for s in waiting)]:
        with store.open_dataset(dataset) as reader:
            assert reader.reads_ahead is reads_ahead, store.url
