"""The driver contract, and the generic driver that works on every fsspec backend.

:class:`~minari_namespaces.stores.fsspec.FsspecNamespaceRepository` owns the
layout and the rules; a driver owns the object I/O of one kind of backend. The
repository picks a driver from its table by protocol, so a new backend is one
module with one :class:`Driver` subclass and one row in that table.

Paths are fsspec paths without the protocol (``bucket/prefix/a/namespace_metadata.json``).

The contract, method by method:

- :meth:`Driver.read` returns the bytes of an object, at most
  ``MAX_METADATA_BYTES + 1`` of them (so an oversized object is refused without
  being downloaded), or :data:`MISSING`. It never follows a link and never blocks
  on something that is not a regular object.
- :meth:`Driver.read_versioned` returns the same bytes with a version token (an
  ETag, a generation, a commit id, or ``None`` where the backend has none) taken
  in the same request, for a later :meth:`Driver.write_if`.
- :meth:`Driver.read_many` reads many objects, concurrently where it can.
- :meth:`Driver.create` writes an object only if it is absent, as one atomic
  step decided by the backend: it raises ``FileExistsError`` if the object
  exists, so of racing creators exactly one wins.
- :meth:`Driver.create_all` is :meth:`Driver.create` for a batch of one depth
  level, returning for each item whether it existed; every write of the batch has
  finished (or failed) when it returns or raises.
- :meth:`Driver.write_if` overwrites an object only if its version is still the
  one read; otherwise it raises :class:`ConflictError` and the caller reads again.
  A driver whose backend has no such condition (:attr:`Driver.compare_and_swap`
  is false) writes unconditionally and relies on :meth:`Driver.exclusive`.
- :meth:`Driver.exclusive` guards a read-modify-write of one object: a no-op on
  compare-and-swap backends, a cross-process lock on ``file://``, a lock within
  this process elsewhere.
- :meth:`Driver.remove` deletes the given objects of one folder, the marker last.
- :meth:`Driver.find` lists every object under a folder (recursively) with as few
  requests as the backend allows; a failing listing raises, it is never
  mistaken for an empty folder.
- :meth:`Driver.names` lists the names directly inside a folder (objects and
  sub-folders), and :meth:`Driver.any_under` tells whether anything lies at or
  under a path (one cheap request where the backend allows).
- :meth:`Driver.repo_name_problem` says why a top-level name cannot be stored
  (``None`` where any valid id can), so it is refused before anything is written.
- :attr:`Driver.atomic_batches`: :meth:`Driver.create_all` may take a whole batch,
  parents and children together, and write it atomically (the Hub: one commit per
  repository); otherwise the repository hands it one depth level at a time.
- :meth:`Driver.connect` (a class method) opens the backend for a URL; the default
  builds the fsspec filesystem of the URL's protocol. It takes the storage option
  ``retry_deadline`` into :attr:`Driver.retry`
  (:class:`~minari_namespaces.stores.retry.RetryPolicy`).
- A write whose answer was lost (the backend applied it, then the client saw a
  failure, or its own resend was refused) is the caller's success, never
  "exists", a conflict or a second write: :class:`ObjectStoreDriver` recognises
  its own write by a write id, the Hub driver by the head's files.

Backend errors propagate as they are; the repository turns them into
:class:`~minari_namespaces.errors.RemoteError` with a clean message.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores.base import create_each
from minari_namespaces.stores.retry import RetryPolicy

__all__ = [
    "MISSING",
    "AsyncDriver",
    "ConflictError",
    "Driver",
    "Missing",
    "ObjectStoreDriver",
    "Page",
    "Read",
]

T = TypeVar("T")

#: How many requests an asynchronous driver keeps in flight.
BATCH: Final = 64


class Missing:
    """The type of :data:`MISSING`: an object that is not there."""

    def __repr__(self) -> str:
        return "MISSING"


#: What a read returns for an absent object.
MISSING: Final = Missing()
#: A versioned read: the bytes (or :data:`MISSING`) and the version token.
Read = tuple[bytes | Missing, Any]
#: One page of a listing: the object paths and (with a delimiter) the sub-folder paths.
Page = tuple[list[str], list[str]]


class ConflictError(Exception):
    """A conditional write lost against another writer; read again and retry."""


def split_bucket(path: str) -> tuple[str, str]:
    """``bucket/key/...`` as the bucket (or container) and the key below it."""
    bucket, _, key = path.partition("/")
    return bucket, key


def protocols_of(fs_class: Any) -> tuple[str, ...]:
    """The protocols an fsspec filesystem class answers to."""
    own = fs_class.protocol
    return (own,) if isinstance(own, str) else tuple(own)


def walks_folders(fs: Any) -> bool:
    """Whether ``fs.find`` is fsspec's generic walk (one listing per folder)."""
    from fsspec.asyn import AsyncFileSystem
    from fsspec.spec import AbstractFileSystem

    if isinstance(fs, AsyncFileSystem):
        return type(fs)._find is AsyncFileSystem._find
    return getattr(type(fs), "find", None) is AbstractFileSystem.find


class Driver:
    """Object I/O through the plain fsspec API; works on every backend.

    Creates use ``pipe_file(..., mode="create")``; overwrites are unconditional
    and serialised within this process only.

    Args:
        fs: The fsspec filesystem.
        root: The store's root path (without protocol).
    """

    #: Whether :meth:`write_if` is a real compare-and-swap across processes.
    compare_and_swap = False
    #: Whether :meth:`create_all` writes a whole batch (all levels) atomically.
    atomic_batches = False
    #: Keys the backend maintains itself in top-level metadata.
    registry_keys: frozenset[str] = frozenset()

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root
        #: How long a write keeps retrying a throttled or failed request.
        self.retry = RetryPolicy()
        self._lock = threading.RLock()
        self._list_by_folder = walks_folders(fs)

    @classmethod
    def connect(cls, url: str, options: dict[str, Any]) -> tuple[Driver, str, str]:
        """Open the store at ``url``: the driver, its root path and the URL to show.

        Raises:
            ImportError: If the protocol's package is not installed.
            ValueError: If the URL or an option is not understood.
        """
        import fsspec
        from fsspec.core import split_protocol

        fs_class = fsspec.get_filesystem_class(split_protocol(url)[0] or "file")
        return cls.open_with(fs_class, url, options)

    @classmethod
    def open_with(cls, fs_class: Any, url: str, options: dict[str, Any]) -> tuple[Driver, str, str]:
        """:meth:`connect` with a given filesystem class."""
        root = str(fs_class._strip_protocol(url))
        root = root.rstrip("/") if root not in ("/", "") else root
        retry = RetryPolicy.from_options(options)
        fs = fs_class(**options)
        driver = cls(fs, root)
        driver.retry = retry
        shown = fs.unstrip_protocol(root) if root else url
        # Show the URL in the user's spelling (``az://``, not adlfs's ``abfs://``).
        protocol, first = url.partition("://")[0], shown.partition("://")[0]
        if "://" in url and protocol != first and protocol in protocols_of(fs_class):
            shown = f"{protocol}://{shown.partition('://')[2]}"
        return driver, root, shown

    def repo_name_problem(self, top: str) -> str | None:
        return None

    def read(self, path: str) -> bytes | Missing:
        try:
            with self.fs.open(path, "rb") as handle:
                data: bytes = handle.read(MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return MISSING
        return data

    def read_versioned(self, path: str) -> Read:
        return self.read(path), None

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes | Missing]:
        return {path: self.read(path) for path in paths}

    def create(self, path: str, payload: bytes) -> None:
        self.fs.pipe_file(path, payload, mode="create")

    def create_all(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        return create_each(items, self.create)

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        self.fs.pipe_file(path, payload)

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        with self._lock:
            yield

    def remove(self, paths: Sequence[str], folder: str) -> None:
        for path in paths:
            self.fs.rm_file(path)

    def find(self, path: str) -> list[str]:
        self.fs.invalidate_cache(path)
        if self._list_by_folder:
            return self._walk_folders(path)
        try:
            found = self.fs.find(path, withdirs=False, detail=True)
        except FileNotFoundError:
            return []
        return [
            name
            for name, info in found.items()
            if info.get("type") == "file" and not info.get("islink", False)
        ]

    def _walk_folders(self, root: str) -> list[str]:
        """Files under ``root``, one listing per folder. fsspec's generic walk
        silently skips every folder whose listing fails (its ``on_error`` does
        not reach sub-folders); here only a folder that has vanished is skipped,
        and any other failure fails the whole listing."""
        files: list[str] = []
        folders = [root.rstrip("/")]
        while folders:
            folder = folders.pop()
            self.fs.invalidate_cache(folder)
            try:
                entries = self.fs.ls(folder, detail=True)
            except FileNotFoundError:
                continue
            for info in entries:
                name = str(info["name"]).rstrip("/")
                if name == folder or info.get("islink", False):
                    continue
                if info.get("type") == "directory":
                    folders.append(name)
                elif info.get("type") == "file":
                    files.append(name)
        return files

    def names(self, folder: str) -> list[str]:
        self.fs.invalidate_cache(folder)
        try:
            entries = self.fs.ls(folder, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries]

    def any_under(self, path: str) -> bool:
        if self.names(path):
            return True
        return not isinstance(self.read(path), Missing)

    def invalidate(self, path: str) -> None:
        self.fs.invalidate_cache(path)


class AsyncDriver(Driver):
    """The generic driver with batched concurrent reads and creates, for
    asynchronous filesystems."""

    def _run(self, coroutine: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``coroutine(*args)`` on the filesystem's event loop and wait for it."""
        from fsspec.asyn import sync

        return sync(self.fs.loop, coroutine, *args)  # type: ignore[no-any-return]

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes | Missing]:
        async def gather() -> list[bytes | Missing]:
            results: list[bytes | Missing] = []
            for start in range(0, len(paths), BATCH):
                batch = paths[start : start + BATCH]
                results.extend(await asyncio.gather(*(self._read_async(p) for p in batch)))
            return results

        return dict(zip(paths, self._run(gather), strict=True))

    async def _read_async(self, path: str) -> bytes | Missing:
        try:
            data: bytes = await self.fs._cat_file(path, start=0, end=MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return MISSING
        return data

    async def _create_async(self, path: str, payload: bytes) -> None:
        """Write ``path`` only if it is absent; ``FileExistsError`` if it exists."""
        await self.fs._pipe_file(path, payload, mode="create")

    def create(self, path: str, payload: bytes) -> None:
        self._run(self._create_async, path, payload)

    def create_all(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Create-only writes, concurrently in batches; ``True`` where the object existed."""

        async def one(path: str, payload: bytes) -> bool:
            try:
                await self._create_async(path, payload)
            except FileExistsError:
                return True
            return False

        async def gather() -> list[bool]:
            results: list[bool] = []
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                # Let every write of the batch finish before raising, so that no
                # write lands after the call has failed.
                outcomes = await asyncio.gather(
                    *(one(p, d) for p, d in batch), return_exceptions=True
                )
                for outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome
                results += [outcome for outcome in outcomes if isinstance(outcome, bool)]
            return results

        return self._run(gather)


#: The user-metadata key of the random id each write of an object store carries.
WRITE_ID_KEY: Final = "minariwrite"


class ObjectStoreDriver(AsyncDriver):
    """The common part of the cloud object stores (S3, GCS, Azure Blob).

    A subclass supplies five requests: :meth:`_get` (the body, capped, with its
    version token, in one request), :meth:`_create_object` (create-only),
    :meth:`_replace_object` (overwrite only if the version is unchanged),
    :meth:`_write_id` (the id a write left in the object's user metadata) and
    :meth:`_pages` (a flat listing, page by page). Everything else follows: no
    ``HEAD`` before a read, one listing request per page, concurrent batches.

    A write whose answer was lost is recognised, not repeated. Each write stores
    a fresh random id under :data:`WRITE_ID_KEY` in the object's user metadata.
    When the write fails (after the client's own retries: a 5xx, a reset, a
    timeout), or when a retried conditional write is refused (412/409) because
    its first attempt had landed, the object's id is read back once: if it is
    ours, the write succeeded. So a create is never reported as "exists" for our
    own bytes, while of racing creators, even of identical bytes, exactly one
    wins. If the id cannot be read either, that failure is raised: nothing is
    reported that was not seen.
    """

    compare_and_swap = True

    async def _get(self, path: str) -> Read:
        """The object's bytes (at most ``MAX_METADATA_BYTES + 1``) and version."""
        raise NotImplementedError

    async def _create_object(self, path: str, payload: bytes, write_id: str) -> None:
        """Write ``path`` only if it is absent, carrying ``write_id``;
        ``FileExistsError`` if it exists."""
        raise NotImplementedError

    async def _replace_object(self, path: str, payload: bytes, version: Any, write_id: str) -> None:
        """Overwrite ``path`` if its version is still ``version``, carrying
        ``write_id``; ``ConflictError`` otherwise."""
        raise NotImplementedError

    async def _write_id(self, path: str) -> str | None:
        """The write id stored with ``path`` (``None`` if absent or without one)."""
        raise NotImplementedError

    async def _create_async(self, path: str, payload: bytes) -> None:
        write_id = secrets.token_hex(16)
        try:
            await self._create_object(path, payload, write_id)
        except Exception:
            # "Exists" may be our own write, retried after its answer was lost. If
            # that cannot be read either, its failure is raised: the outcome is unknown.
            if await self._write_id(path) == write_id:
                return
            raise

    async def _replace_async(self, path: str, payload: bytes, version: Any) -> None:
        write_id = secrets.token_hex(16)
        try:
            await self._replace_object(path, payload, version, write_id)
        except Exception:
            # A conflict may be our own write, retried after its answer was lost.
            if await self._write_id(path) == write_id:
                return
            raise

    def _pages(self, folder: str, *, delimiter: bool = False, limit: int = 0) -> Iterator[Page]:
        """Listing pages under ``folder/`` (the whole bucket for a bare bucket),
        recursive unless ``delimiter``; ``limit`` caps the page size."""
        raise NotImplementedError

    async def _read_async(self, path: str) -> bytes | Missing:
        return (await self._get(path))[0]

    def read(self, path: str) -> bytes | Missing:
        return self.read_versioned(path)[0]

    def read_versioned(self, path: str) -> Read:
        return self._run(self._get, path)

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        if version is None:
            raise ConflictError(path)
        try:
            self._run(self._replace_async, path, payload, version)
        finally:
            self.invalidate(path)

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        yield

    def find(self, path: str) -> list[str]:
        return [name for names, _ in self._pages(path) for name in names if not name.endswith("/")]

    def names(self, folder: str) -> list[str]:
        found = [
            name
            for names, folders in self._pages(folder, delimiter=True)
            for name in (*folders, *names)
        ]
        return [name.rstrip("/").rsplit("/", 1)[-1] for name in found if name.rstrip("/")]

    def any_under(self, path: str) -> bool:
        # One request: a dataset folder on an object store is keys under ``data/``.
        return bool(next(iter(self._pages(path, limit=1)), ([], []))[0])
