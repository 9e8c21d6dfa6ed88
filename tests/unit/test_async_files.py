"""Small dataset files as coroutines on an event loop (issue 23): read ahead of the
copies that ask for them, written behind the reads, ``jobs`` at a time, within a
bounded window, every write ended before a failure is raised.

The loop is fsspec's own IO loop (a thread), as an asynchronous filesystem's is;
the reads and writes are coroutines that keep count of what they were asked."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import BinaryIO

import pytest
from fsspec.asyn import get_loop

from minari_namespaces.dataset_files import DatasetFile, DatasetWrite
from minari_namespaces.errors import CopyVerificationError
from minari_namespaces.stores.drivers.async_files import (
    WINDOW_BYTES,
    WINDOW_FILES,
    ReadAhead,
    write_behind,
)

Opened = AbstractContextManager[BinaryIO]


@dataclass
class Remote:
    """Objects on the loop's side: how many requests ran at once, and which."""

    objects: dict[str, bytes] = field(default_factory=dict)
    running: int = 0
    most_running: int = 0
    started: list[str] = field(default_factory=list)
    fail: str | None = None

    async def _request(self, path: str) -> None:
        self.started.append(path)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(0.001)
            if path == self.fail:
                raise OSError(f"the server refused {path}")
        finally:
            self.running -= 1

    async def fetch(self, path: str, size: int) -> bytes:
        await self._request(path)
        return self.objects[path][: size + 1]

    async def put(self, path: str, data: bytes) -> DatasetFile | None:
        await self._request(path)
        self.objects[path] = data
        return DatasetFile("", len(data), f"v{len(data)}") if path.endswith(".json") else None


def _settle() -> None:
    """Let the loop run what is already scheduled on it (cancellations included)."""
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), get_loop()).result()


def _files(count: int, size: int = 10) -> list[DatasetFile]:
    return [DatasetFile(f"data/{n}/part-0.arrow", size) for n in range(count)]


def _streamed(remote: Remote, opened: list[str]) -> Callable[[DatasetFile], Opened]:
    def stream(file: DatasetFile) -> Opened:
        opened.append(file.path)
        return nullcontext(io.BytesIO(remote.objects[f"ds/{file.path}"]))

    return stream


def _reader(remote: Remote, files: list[DatasetFile], opened: list[str], jobs: int) -> ReadAhead:
    for file in files:
        remote.objects[f"ds/{file.path}"] = bytes([len(file.path)]) * file.size
    return ReadAhead(
        get_loop(), remote.fetch, _streamed(remote, opened), "ds", files, jobs=jobs, largest=1000
    )


def test_read_ahead_serves_every_small_file_jobs_at_a_time_in_any_order() -> None:
    remote, opened = Remote(), list[str]()
    files = [*_files(40), DatasetFile("data/big.hdf5", 5000), DatasetFile("data/empty", 0)]
    reader = _reader(remote, files, opened, jobs=3)
    for file in files[::-1]:  # out of turn: read at once, never twice
        with reader.open(file) as handle:
            assert handle.read() == remote.objects[f"ds/{file.path}"]
    reader.close()
    assert sorted(remote.started) == sorted(f"ds/{file.path}" for file in files[:40])
    # The big file and the empty one (a ranged read of it is refused) are streamed.
    assert opened == ["data/empty", "data/big.hdf5"]
    assert 1 < remote.most_running <= 3


def test_read_ahead_holds_at_most_its_window() -> None:
    remote, opened = Remote(), list[str]()
    files = _files(WINDOW_FILES * 3)
    # As many jobs as files: every read submitted starts at once, so what started
    # once the loop settled is what was submitted.
    reader = _reader(remote, files, opened, jobs=len(files))
    with reader.open(files[0]) as handle:
        assert handle.read() == remote.objects["ds/data/0/part-0.arrow"]
    _settle()
    # One file taken: the window moved on by one, no further.
    assert remote.started == [f"ds/{file.path}" for file in files[: WINDOW_FILES + 1]]
    reader.close()


@dataclass
class HeldRemote(Remote):
    """A remote whose reads, once started, wait until :meth:`release` (those of
    ``passing`` excepted)."""

    passing: set[str] = field(default_factory=set)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def fetch(self, path: str, size: int) -> bytes:
        self.started.append(path)
        if path not in self.passing:
            await self.gate.wait()
        return self.objects[path][: size + 1]

    def release(self) -> None:
        get_loop().call_soon_threadsafe(self.gate.set)


def test_close_drops_the_reads_not_started_and_serves_on_demand_after() -> None:
    files = _files(WINDOW_FILES * 3)
    remote, opened = HeldRemote(passing={f"ds/{files[0].path}"}), list[str]()
    reader = _reader(remote, files, opened, jobs=4)
    with reader.open(files[0]) as handle:
        assert handle.read() == remote.objects["ds/data/0/part-0.arrow"]
    # Four copies take the four reads under way (held by the remote); the others
    # wait for their turn.
    taken = [reader.open(file) for file in files[1:5]]
    _settle()
    running = [f"ds/{file.path}" for file in files[:5]]
    assert remote.started == running

    reader.close()
    remote.release()
    _settle()  # the held reads end; none that waited for its turn starts

    assert remote.started == running
    for file, opening in zip(files[1:5], taken, strict=True):
        with opening as handle:
            assert handle.read() == remote.objects[f"ds/{file.path}"]
    with reader.open(files[-1]) as handle:  # still served after close, on demand
        assert handle.read() == remote.objects[f"ds/{files[-1].path}"]
    assert remote.started == [*running, f"ds/{files[-1].path}"]


def test_close_with_reads_under_way_starts_none_of_those_waiting() -> None:
    files = _files(WINDOW_FILES)
    remote, opened = HeldRemote(passing=set()), list[str]()
    reader = _reader(remote, files, opened, jobs=4)
    _settle()
    running = [f"ds/{file.path}" for file in files[:4]]
    assert remote.started == running  # nobody took them: all four are ahead

    reader.close()  # cancels the four under way, freeing their slots
    remote.release()
    _settle()
    assert remote.started == running


def test_read_ahead_bounds_the_bytes_held_too() -> None:
    remote, opened = Remote(), list[str]()
    big = WINDOW_BYTES // 4
    files = _files(6, size=big)
    for file in files:
        remote.objects[f"ds/{file.path}"] = b"x" * big
    # As many jobs as files: only the byte bound stops a read from starting.
    reader = ReadAhead(
        get_loop(), remote.fetch, _streamed(remote, opened), "ds", files, jobs=6, largest=big
    )
    _settle()
    assert remote.started == [f"ds/{file.path}" for file in files[:4]]
    reader.close()


@contextmanager
def _source(data: dict[str, bytes], file: DatasetFile) -> Iterator[BinaryIO]:
    yield io.BytesIO(data[file.path])


def _write(files: list[DatasetFile], data: dict[str, bytes], jobs: int) -> DatasetWrite:
    return DatasetWrite(files, lambda file: _source(data, file), jobs=jobs)


def test_write_behind_writes_every_file_jobs_at_a_time_and_returns_the_answers() -> None:
    remote = Remote()
    files = [*_files(30), DatasetFile("data/metadata.json", 2)]
    data = {file.path: b"a" * file.size for file in files}
    written = write_behind(
        get_loop(), remote.put, "ds", files, _write(files, data, jobs=4), md5=True
    )
    assert remote.objects == {f"ds/{path}": raw for path, raw in data.items()}
    assert [digest.size for digest, _ in written] == [file.size for file in files]
    assert all(digest.md5 is not None for digest, _ in written)
    # The store's answer, where it gives one, names the file it describes.
    assert written[-1][1] == DatasetFile("data/metadata.json", 2, "v2")
    assert all(answer is None for _, answer in written[:-1])
    assert 1 < remote.most_running <= 4


def test_a_failed_write_is_raised_after_every_write_sent_has_ended() -> None:
    remote = Remote(fail="ds/data/3/part-0.arrow")
    files = _files(3 * WINDOW_FILES)
    data = {file.path: b"b" * file.size for file in files}
    with pytest.raises(OSError, match="refused ds/data/3"):
        write_behind(get_loop(), remote.put, "ds", files, _write(files, data, jobs=2), md5=False)
    assert remote.running == 0  # nothing lands after the caller cleans up
    # Reading stopped once the failure was seen: far from every file was sent.
    assert len(remote.started) < len(files)


def test_a_file_that_differs_from_its_listing_stops_the_writes() -> None:
    remote = Remote()
    files = _files(5)
    data = {file.path: b"c" * file.size for file in files}
    data[files[2].path] = b"short"
    with pytest.raises(CopyVerificationError, match="data/2/part-0.arrow"):
        write_behind(get_loop(), remote.put, "ds", files, _write(files, data, jobs=2), md5=False)
    assert remote.running == 0
    assert "ds/data/2/part-0.arrow" not in remote.objects
