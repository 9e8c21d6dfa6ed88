"""The pipe between a copying thread and a streamed request on an event loop:
chunks in order, a bounded number held, and each end told when the other stops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from minari_namespaces.stores.drivers.async_files import Pipe, PipeClosedError


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join()
    running.close()


def _read_all(loop: asyncio.AbstractEventLoop, pipe: Pipe) -> Future[list[bytes]]:
    async def read() -> list[bytes]:
        return [chunk async for chunk in pipe.chunks()]

    return asyncio.run_coroutine_threadsafe(read(), loop)


def test_chunks_arrive_in_order_and_close_ends_them(loop: asyncio.AbstractEventLoop) -> None:
    pipe = Pipe(loop, depth=2)
    read = _read_all(loop, pipe)
    for index in range(10):
        pipe.write(b"%d" % index)
    pipe.close()
    assert read.result(timeout=10) == [b"%d" % index for index in range(10)]


def test_a_writer_waits_while_the_pipe_holds_depth_chunks(loop: asyncio.AbstractEventLoop) -> None:
    pipe = Pipe(loop, depth=3)
    written: list[int] = []

    def writer() -> None:
        for index in range(5):
            pipe.write(b"x")
            written.append(index)

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # nothing reads: it waits on the fourth chunk
    assert written == [0, 1, 2]
    read = _read_all(loop, pipe)
    thread.join(timeout=10)
    pipe.close()
    assert read.result(timeout=10) == [b"x"] * 5


def test_a_writer_waiting_on_a_reader_that_stopped_is_told(
    loop: asyncio.AbstractEventLoop,
) -> None:
    pipe = Pipe(loop, depth=1)
    pipe.write(b"held")
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            pipe.write(b"never read")
        except PipeClosedError as error:
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    pipe.stop()  # the request ended before reading its body
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(failures) == 1


def test_abort_makes_the_reader_raise(loop: asyncio.AbstractEventLoop) -> None:
    pipe = Pipe(loop, depth=2)
    read = _read_all(loop, pipe)
    pipe.write(b"first")
    pipe.abort(ConnectionAbortedError("the copy stopped"))
    with pytest.raises(ConnectionAbortedError, match="copy stopped"):
        read.result(timeout=10)
    with pytest.raises(PipeClosedError):
        pipe.write(b"after")
