"""Many small dataset files through an asynchronous fsspec filesystem, as
coroutines on its event loop.

fsspec runs every request of an asynchronous filesystem (s3fs, gcsfs, adlfs) on
one event-loop thread, and its synchronous API hands each call over to that
thread and waits for the answer. Worker threads that copy one small file each
keep only as many requests in flight as there are threads, and pay two thread
hand-offs per file. Here the small files of a dataset (one request each) run as
coroutines on the loop instead, submitted from the calling thread without
waiting for each (``asyncio.run_coroutine_threadsafe``), at most ``jobs`` in
flight (an ``asyncio.Semaphore``):

- :class:`ReadAhead` reads a source's small files ahead of the copies that ask
  for them, in the order they will ask;
- :func:`write_behind` writes a target's small files while the calling thread
  reads the next ones from the source.

Each holds at most :data:`WINDOW_FILES` files and :data:`WINDOW_BYTES` bytes
per dataset (beyond the files being copied), so memory stays bounded whatever
the number of files; a big file streams in parts in a worker thread, as before.
A copy between two object stores holds both windows of every dataset under way
(up to ``jobs`` of them), plus the ``jobs`` files being copied: the whole bound
is in ``docs/moving-datasets.md``.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as FutureTimeoutError
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import replace
from functools import partial
from typing import Any, BinaryIO, ClassVar, Final

from minari_namespaces.dataset_files import DatasetFile, DatasetWrite, Digest

__all__ = [
    "LARGEST_READ_AHEAD",
    "AsyncFiles",
    "Pipe",
    "PipeClosedError",
    "WINDOW_BYTES",
    "WINDOW_FILES",
    "ReadAhead",
    "write_behind",
    "write_split",
]

#: Most files read ahead (or written behind) and not yet taken, per dataset and side.
WINDOW_FILES: Final = 64
#: Most bytes read ahead (or written behind) and not yet taken, per dataset and side.
WINDOW_BYTES: Final = 32 * 1024 * 1024
#: The biggest file read ahead, whole, in one request (one part of a streamed read).
LARGEST_READ_AHEAD: Final = 8 * 1024 * 1024

#: Reads ``size`` bytes (and one more, if the object grew) of the object at a path.
Fetch = Callable[[str, int], Awaitable[bytes]]
#: Writes the whole object at a path; the stored file as the store's answer
#: describes it (size, version, MD5), or ``None`` where the answer does not.
Put = Callable[[str, bytes], Awaitable[DatasetFile | None]]
#: Opens one file of the folder for streaming reads.
Opener = Callable[[DatasetFile], AbstractContextManager[BinaryIO]]
#: What copying one file gave: what was read, and the stored file as the store's
#: answer describes it (``None`` where it does not: a listing checks it).
Written = tuple[Digest, DatasetFile | None]


@contextmanager
def _served(future: Future[bytes]) -> Iterator[BinaryIO]:
    yield io.BytesIO(future.result())


class ReadAhead:
    """Reads the small files of one dataset folder ahead of the copies that ask
    for them; as a context manager, its :meth:`open` for the block, and what it
    has not served dropped at the end.

    Args:
        loop: The filesystem's event loop.
        fetch: Reads one object (see :data:`Fetch`).
        stream: Opens a file that is not read ahead (a big or an empty one).
        folder: The dataset's folder, the files' paths are relative to it.
        files: The dataset's files, in the order the copies will ask for them.
        jobs: Reads in flight at once.
        largest: The biggest file read ahead, whole, in one request.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fetch: Fetch,
        stream: Opener,
        folder: str,
        files: Sequence[DatasetFile],
        *,
        jobs: int,
        largest: int,
    ) -> None:
        self._loop = loop
        self._fetch = fetch
        self._stream = stream
        self._folder = folder
        self._largest = largest
        # Empty files are streamed: a ranged read of an empty object is refused.
        self._queue = [file for file in files if 0 < file.size <= largest]
        self._next = 0
        self._ahead: dict[str, Future[bytes]] = {}
        self._ahead_bytes = 0
        self._taken: set[str] = set()
        self._limit = asyncio.Semaphore(max(1, jobs))
        self._lock = threading.Lock()
        with self._lock:
            self._top_up()

    def __enter__(self) -> Opener:
        return self.open

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self, file: DatasetFile) -> AbstractContextManager[BinaryIO]:
        """Open ``file``: served from memory once it has arrived, if it was read
        ahead (or read now, if it was asked for out of turn); else streamed."""
        if not 0 < file.size <= self._largest:
            return self._stream(file)
        with self._lock:
            future = self._ahead.pop(file.path, None)
            if future is None:
                future = self._submit(file)
            else:
                self._ahead_bytes -= file.size
            self._taken.add(file.path)
            self._top_up()
        return _served(future)

    def close(self) -> None:
        """Stop every read not taken (a failed or interrupted copy)."""
        with self._lock:
            # Latest first: the reads still waiting for a slot are cancelled before
            # a cancelled read under way frees its slot for one of them.
            for future in reversed(self._ahead.values()):
                future.cancel()
            self._ahead.clear()
            self._next = len(self._queue)

    def _top_up(self) -> None:
        while self._next < len(self._queue) and len(self._ahead) < WINDOW_FILES:
            file = self._queue[self._next]
            if file.path in self._taken:
                self._next += 1
                continue
            if self._ahead and self._ahead_bytes + file.size > WINDOW_BYTES:
                return
            self._ahead[file.path] = self._submit(file)
            self._ahead_bytes += file.size
            self._next += 1

    def _submit(self, file: DatasetFile) -> Future[bytes]:
        async def read() -> bytes:
            async with self._limit:
                return await self._fetch(f"{self._folder}/{file.path}", file.size)

        return asyncio.run_coroutine_threadsafe(read(), self._loop)


class PipeClosedError(Exception):
    """The reading end of a :class:`Pipe` stopped before the writer finished."""


class Pipe:
    """The chunks one thread writes, read as an asynchronous iterator on ``loop``
    (the body of a streamed request): at most ``depth`` chunks held between them,
    so memory stays flat in file size.

    Args:
        loop: The event loop the reader runs on.
        depth: Chunks held at most.
    """

    #: Seconds between two looks at whether the reader has stopped, while full.
    POLL: ClassVar[float] = 0.1

    def __init__(self, loop: asyncio.AbstractEventLoop, depth: int = 4) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(depth)
        self._stopped = threading.Event()

    def write(self, chunk: bytes) -> None:
        """Hand ``chunk`` to the reader, waiting while the pipe is full.

        Raises:
            PipeClosedError: If the reader has stopped.
        """
        self._hand(chunk)

    def close(self) -> None:
        """End the stream: the reader's iteration stops after the last chunk."""
        self._hand(None)

    def abort(self, error: Exception) -> None:
        """Make the reader raise ``error`` (a failed copy: the request must fail),
        unless it has stopped already. Never an interrupt: it would stop the loop."""
        with suppress(PipeClosedError):
            self._hand(error)

    def stop(self) -> None:
        """The reader is done, whether it read anything or not (the request ended):
        a writer waiting on a full pipe raises :class:`PipeClosedError`."""
        self._stopped.set()

    def _hand(self, item: bytes | BaseException | None) -> None:
        if self._stopped.is_set():
            raise PipeClosedError
        future = asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop)
        while True:
            try:
                future.result(timeout=self.POLL)
                return
            except FutureTimeoutError:
                if self._stopped.is_set():
                    future.cancel()
                    raise PipeClosedError from None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks written, in order, until :meth:`close`; raises what
        :meth:`abort` was given."""
        try:
            while (item := await self._queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop()


def write_split(
    loop: asyncio.AbstractEventLoop,
    put: Put,
    write: DatasetWrite,
    files: Sequence[DatasetFile],
    *,
    folder: str,
    largest: int,
    stream: Callable[[DatasetFile], Written],
) -> list[Written]:
    """Copy ``files``, each in one of ``write.run``'s tasks: those up to ``largest``
    bytes by :func:`write_behind`, all in one task where the source reads ahead
    (``write.reads_ahead``: its opens wait on no network), else one task each, so
    that ``jobs`` of them read at once; each bigger one by ``stream`` (in parts).

    Returns:
        Per file, in order, as :func:`write_behind` says.
    """
    small = [file for file in files if file.size <= largest]
    big = [file for file in files if file.size > largest]
    groups = [small] if write.reads_ahead and small else [[file] for file in small]
    tasks: list[Callable[[], Any]] = [partial(stream, file) for file in big]
    tasks += [partial(write_behind, loop, put, folder, group, write, md5=True) for group in groups]
    done = write.run(tasks)
    by_path: dict[str, Written] = dict(zip((file.path for file in big), done, strict=False))
    for group, written in zip(groups, done[len(big) :], strict=True):
        by_path.update(zip((file.path for file in group), written, strict=True))
    return [by_path[file.path] for file in files]


def write_behind(
    loop: asyncio.AbstractEventLoop,
    put: Put,
    folder: str,
    files: Sequence[DatasetFile],
    write: DatasetWrite,
    *,
    md5: bool,
) -> list[Written]:
    """Copy ``files`` whole, each in one request: read (and checked) in this
    thread, written by ``put`` on ``loop`` while the next ones are read,
    ``write.jobs`` at once. Every write has ended when this returns or raises, so
    none lands after the caller cleans up.

    Returns:
        Per file, in order: what the copy read, and the stored file as the
        store's answer describes it (``None`` where it does not).

    Raises:
        CopyVerificationError: If a file read differs from its listing.
        Exception: The first failure of a write.
    """
    limit = asyncio.Semaphore(max(1, write.jobs))

    async def send(path: str, data: bytes) -> DatasetFile | None:
        async with limit:
            return await put(path, data)

    digests: list[Digest] = []
    sent: list[Future[DatasetFile | None]] = []
    pending: dict[Future[DatasetFile | None], int] = {}
    try:
        for file in files:
            path = f"{folder}/{file.path}"
            chunks: list[bytes] = []
            digests.append(write.copy(file, chunks.append, path, md5=md5))
            data = b"".join(chunks)
            while pending and (
                len(pending) >= WINDOW_FILES or sum(pending.values()) + len(data) > WINDOW_BYTES
            ):
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    del pending[future]
                    future.result()  # the first failure stops the reads
            future = asyncio.run_coroutine_threadsafe(send(path, data), loop)
            sent.append(future)
            pending[future] = len(data)
    finally:
        wait(sent)
    answers = [future.result() for future in sent]
    return [
        (digest, None if answer is None else replace(answer, path=file.path))
        for file, digest, answer in zip(files, digests, answers, strict=True)
    ]


class AsyncFiles:
    """The dataset-file methods of a driver over an asynchronous fsspec filesystem
    (a mixin before :class:`~minari_namespaces.stores.drivers.fsspec_driver.FsspecDriver`,
    whose streaming reads and writes it uses for big files)."""

    #: The asynchronous fsspec filesystem.
    fs: Any
    #: The part size of streamed writes: a file up to it is written in one request.
    write_block: ClassVar[int]
    open_file: Callable[[str], Any]
    write_file: Callable[[str, DatasetFile, DatasetWrite], Written]
    _fresh: Callable[[str], None]

    def read_ahead(
        self, folder: str, files: Sequence[DatasetFile], jobs: int
    ) -> AbstractContextManager[Opener]:
        """Reads the small ones of ``files`` ahead (:class:`ReadAhead`), ``jobs`` at
        once; the others are streamed by :meth:`open_file`."""

        def stream(file: DatasetFile) -> AbstractContextManager[BinaryIO]:
            opened: AbstractContextManager[BinaryIO] = self.open_file(f"{folder}/{file.path}")
            return opened

        return ReadAhead(
            self.fs.loop,
            self.fetch_whole,
            stream,
            folder,
            files,
            jobs=jobs,
            largest=LARGEST_READ_AHEAD,
        )

    async def fetch_whole(self, path: str, size: int) -> bytes:
        """Read the object ``path`` of ``size`` bytes in one request, and one byte
        more if it has grown (a listing checks it)."""
        data: bytes = await self.fs._cat_file(path, start=0, end=size + 1)
        return data

    async def put_whole(self, path: str, data: bytes) -> DatasetFile | None:
        """Write the object ``path`` in one request; the stored file as the answer
        describes it (its path aside), or ``None`` where it does not (here)."""
        await self.fs._pipe_file(path, data)
        return None

    def write_files(
        self, folder: str, files: Sequence[DatasetFile], write: DatasetWrite
    ) -> list[Written]:
        """Write ``files`` into ``folder``: the small ones by :func:`write_behind`,
        the others streamed in parts, all at once."""

        def stream(file: DatasetFile) -> Written:
            return self.write_file(f"{folder}/{file.path}", file, write)

        try:
            return write_split(
                self.fs.loop,
                self.put_whole,
                write,
                files,
                folder=folder,
                largest=self.write_block,
                stream=stream,
            )
        finally:
            self._fresh(folder)
