"""The drivers of fsspec filesystems: the generic one, the asynchronous one, and
the common part of the cloud object stores.

- :class:`FsspecDriver` works on every fsspec backend through the plain fsspec
  API: creates are ``pipe_file(..., mode="create")``, overwrites unconditional and
  serialised within this process;
- :class:`AsyncDriver` adds batched concurrent reads and creates on asynchronous
  filesystems;
- :class:`ObjectStoreDriver` is S3's, GCS's and Azure Blob's: conditional writes
  on the object's version, direct listing pages, and lost answers recognised by a
  write id.

fsspec caches directory listings; these drivers own that cache (the contract's
rule): they clear a folder's listing after writing in it and before listing it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, ClassVar, Final, TypeVar

from minari_namespaces.dataset_files import (
    CopiedFile,
    DatasetFile,
    DatasetWrite,
    check_copy,
    unsafe_reason,
)
from minari_namespaces.datasets import DATASET_METADATA_FILENAME
from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores.drivers.async_files import AsyncFiles, Written
from minari_namespaces.stores.drivers.driver import MISSING, ConflictError, Driver, Missing, Read
from minari_namespaces.stores.drivers.retry import RetryPolicy

__all__ = [
    "BLOCK_BYTES",
    "DATASET_MARK",
    "WRITE_ID_KEY",
    "AsyncDriver",
    "FsspecDriver",
    "ObjectStoreDriver",
    "Page",
    "folder_of",
    "md5_of",
    "protocols_of",
    "split_bucket",
    "version_of",
]

T = TypeVar("T")

#: How many requests an asynchronous driver keeps in flight.
BATCH: Final = 64
#: One page of a listing: the object paths with their sizes in bytes, and (with a
#: delimiter) the sub-folder paths.
Page = tuple[dict[str, int], list[str]]
#: The part size of streamed reads and writes: S3 multipart parts, GCS resumable
#: chunks and Azure blocks of this size; memory stays flat in file size.
BLOCK_BYTES: Final = 8 * 1024 * 1024
#: The listing fields that change whenever an object does, by preference.
_VERSION_FIELDS: Final = (
    "generation",
    "ETag",
    "etag",
    "mtime",
    "LastModified",
    "last_modified",
    "created",
)
#: The file whose presence makes a dataset whole on an object store: written last.
DATASET_MARK: Final = f"data/{DATASET_METADATA_FILENAME}"


def version_of(info: Mapping[str, Any]) -> str | None:
    """The version token of an object from its listing entry."""
    for name in _VERSION_FIELDS:
        value = info.get(name)
        if value is not None:
            return f"{name}={value}:{info.get('size')}"
    return None


def md5_of(info: Mapping[str, Any]) -> str | None:
    """The MD5 (hex) the store keeps of an object, from its listing entry: a
    single-part S3 ETag, GCS's ``md5Hash``, Azure's ``content_md5``."""
    etag = str(info.get("ETag") or "").strip('"')
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag.lower()):
        return etag.lower()
    encoded = info.get("md5Hash")
    settings = info.get("content_settings")
    raw: Any = getattr(settings, "content_md5", None) or (
        settings.get("content_md5") if isinstance(settings, Mapping) else None
    )
    try:
        if isinstance(encoded, str):
            return base64.b64decode(encoded).hex()
    except (binascii.Error, ValueError):
        return None
    return bytes(raw).hex() if isinstance(raw, bytes | bytearray) and len(raw) == 16 else None


def split_bucket(path: str) -> tuple[str, str]:
    """``bucket/key/...`` as the bucket (or container) and the key below it."""
    bucket, _, key = path.partition("/")
    return bucket, key


def folder_of(path: str) -> str:
    """The folder that holds the object ``path``."""
    return path.rsplit("/", 1)[0]


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


class FsspecDriver(Driver):
    """Object I/O through the plain fsspec API; works on every backend.

    Args:
        fs: The fsspec filesystem.
        root: The store's root path (without protocol).
        retry: How long a write keeps retrying a throttled or failed request.
    """

    #: The part size of streamed writes (S3 multipart parts, GCS resumable chunks).
    write_block: ClassVar[int] = BLOCK_BYTES

    def __init__(self, fs: Any, root: str, *, retry: RetryPolicy | None = None) -> None:
        super().__init__(root, retry=retry)
        #: The fsspec filesystem.
        self.fs = fs
        self._list_by_folder = walks_folders(fs)

    @property
    def client(self) -> Any:
        """The fsspec filesystem."""
        return self.fs

    @classmethod
    def connect(cls, url: str, options: dict[str, Any]) -> tuple[Driver, str]:
        """Open the store at ``url`` with the fsspec filesystem of its protocol.

        Raises:
            ImportError: If the protocol's package is not installed.
            ValueError: If the URL or an option is not understood.
        """
        import fsspec
        from fsspec.core import split_protocol

        fs_class = fsspec.get_filesystem_class(split_protocol(url)[0] or "file")
        return cls.open_with(fs_class, url, options)

    @classmethod
    def open_with(cls, fs_class: Any, url: str, options: dict[str, Any]) -> tuple[Driver, str]:
        """:meth:`connect` with a given filesystem class.

        Raises:
            ImportError: If the filesystem's package is not installed.
            ValueError: If the URL or an option is not understood.
        """
        root = str(fs_class._strip_protocol(url))
        root = root.rstrip("/") if root not in ("/", "") else root
        retry = RetryPolicy.from_options(options)
        fs = fs_class(**options)
        shown = fs.unstrip_protocol(root) if root else url
        # Show the URL in the user's spelling (``az://``, not adlfs's ``abfs://``).
        protocol, first = url.partition("://")[0], shown.partition("://")[0]
        if "://" in url and protocol != first and protocol in protocols_of(fs_class):
            shown = f"{protocol}://{shown.partition('://')[2]}"
        return cls(fs, root, retry=retry), shown

    def _fresh(self, folder: str) -> None:
        """Drop fsspec's cached listing of ``folder`` (and the folders above it):
        after a write in it, before a listing of it."""
        self.fs.invalidate_cache(folder)

    def read(self, path: str) -> bytes | Missing:
        try:
            with self.fs.open(path, "rb") as handle:
                data: bytes = handle.read(MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return MISSING
        return data

    def create(self, path: str, payload: bytes) -> None:
        try:
            self.fs.pipe_file(path, payload, mode="create")
        finally:
            self._fresh(folder_of(path))

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        try:
            self.fs.pipe_file(path, payload)
        finally:
            self._fresh(folder_of(path))

    def remove(self, paths: Sequence[str], folder: str) -> None:
        try:
            for path in paths:
                self.fs.rm_file(path)
        finally:
            self._fresh(folder)

    def find(self, path: str) -> dict[str, int]:
        self._fresh(path)
        if self._list_by_folder:
            return self._walk_folders(path)
        try:
            found = self.fs.find(path, withdirs=False, detail=True)
        except FileNotFoundError:
            return {}
        return {
            name: int(info.get("size") or 0)
            for name, info in found.items()
            if info.get("type") == "file" and not info.get("islink", False)
        }

    def _walk_folders(self, root: str) -> dict[str, int]:
        """Files under ``root``, one listing per folder. fsspec's generic walk
        silently skips every folder whose listing fails (its ``on_error`` does
        not reach sub-folders); here only a folder that has vanished is skipped,
        and any other failure fails the whole listing."""
        files: dict[str, int] = {}
        folders = [root.rstrip("/")]
        while folders:
            folder = folders.pop()
            self._fresh(folder)
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
                    files[name] = int(info.get("size") or 0)
        return files

    def names(self, folder: str) -> list[str]:
        self._fresh(folder)
        try:
            entries = self.fs.ls(folder, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries]

    # -- dataset files: every file written, then ``data/metadata.json`` ----------

    def stat_files(self, folder: str) -> tuple[list[DatasetFile], list[str]]:
        folder = folder.rstrip("/")
        self._fresh(folder)
        try:
            found = self.fs.find(folder, withdirs=False, detail=True)
        except FileNotFoundError:
            return [], []
        base = f"{folder}/" if folder else ""
        files: list[DatasetFile] = []
        unsafe: list[str] = []
        for name, info in found.items():
            if not str(name).startswith(base):
                continue
            relative = str(name)[len(base) :]
            if info.get("type") != "file" or info.get("islink") or unsafe_reason(relative):
                unsafe.append(relative)
                continue
            files.append(DatasetFile(relative, int(info["size"]), version_of(info), md5_of(info)))
        files.sort()
        return files, sorted(unsafe)

    @contextmanager
    def open_file(self, path: str) -> Iterator[BinaryIO]:
        with self.fs.open(path, "rb", block_size=BLOCK_BYTES) as handle:
            yield handle

    def write_file(self, path: str, file: DatasetFile, write: DatasetWrite) -> Written:
        """Stream one source file to ``path`` in parts of :attr:`write_block`: what
        the copy read, and no description of the stored file (a listing checks it)."""
        with self.fs.open(path, "wb", block_size=self.write_block) as out:
            # A store keeps an MD5 of a single-part object only (a multipart ETag is not one).
            return write.copy(file, out.write, path, md5=file.size <= self.write_block), None

    def put(self, path: str, payload: bytes) -> None:
        try:
            self.fs.pipe_file(path, payload)
        finally:
            self._fresh(folder_of(path))

    def write_dataset(self, folder: str, write: DatasetWrite, where: str) -> list[CopiedFile]:
        """Every file but ``data/metadata.json``, checked by a listing, then it: a
        listing never shows the dataset before it is whole. Stale objects (an
        interrupted write's, the replaced version's) go first, its mark first of all.
        """
        held = self.held_paths(folder)
        if DATASET_MARK in held:
            if not write.replace:
                raise FileExistsError(f"{folder}/{DATASET_MARK}")
            self.remove([f"{folder}/{DATASET_MARK}"], folder)
        files = write.files
        wanted = {file.path for file in files}
        stale = sorted(held - wanted - {DATASET_MARK})
        if stale:
            self.remove([f"{folder}/{path}" for path in stale], folder)
        body = [file for file in files if file.path != DATASET_MARK]
        last = [file for file in files if file.path == DATASET_MARK]
        stored: dict[str, DatasetFile] = {}
        listed: dict[str, DatasetFile] = {}
        try:
            for batch in (body, last):
                written = self.write_files(folder, batch, write)
                # A file the store's answer did not describe is checked by a listing.
                if any(answer is None for _, answer in written):
                    listed = {file.path: file for file in self.stat_files(folder)[0]}
                for file, (digest, answer) in zip(batch, written, strict=True):
                    got = answer or listed.get(file.path, DatasetFile(file.path, -1))
                    check_copy(file, got.size, got.md5, f"{where}/{file.path}")
                    check_copy(got, got.size, digest.md5, f"{where}/{file.path}")
                    stored[file.path] = got
        except BaseException:
            # The bad or partial copy is not kept (its mark first, if it got one).
            present = self.held_paths(folder) & wanted
            self.remove([f"{folder}/{path}" for path in sorted(present, key=_mark_first)], folder)
            raise
        return [CopiedFile(stored[file.path]) for file in files]

    def held_paths(self, folder: str) -> set[str]:
        """The relative paths of the files in ``folder``, which a write replaces or
        removes: keys no copy writes (``data/../x``) too, each deleted by its exact
        name (which never reaches outside the root); kept, one would make the
        dataset differ from its source forever."""
        there, unsafe = self.stat_files(folder)
        return {file.path for file in there} | set(unsafe)

    def write_files(
        self, folder: str, files: Sequence[DatasetFile], write: DatasetWrite
    ) -> list[Written]:
        """Write ``files`` into ``folder`` (concurrently, where ``write.run`` does):
        what each copy read, and the file as the store's answer describes it
        (``None`` where it does not: a listing checks it)."""
        return write.run([self._writer(folder, file, write) for file in files])

    def _writer(self, folder: str, file: DatasetFile, write: DatasetWrite) -> Callable[[], Written]:
        return lambda: self.write_file(f"{folder}/{file.path}", file, write)


def _mark_first(path: str) -> bool:
    return path != DATASET_MARK


class AsyncDriver(AsyncFiles, FsspecDriver):
    """The generic driver with batched concurrent reads and creates, for
    asynchronous filesystems; a dataset's small files move as coroutines on the
    filesystem's loop (:class:`~minari_namespaces.stores.drivers.async_files.AsyncFiles`)."""

    reads_ahead = True

    def run(self, coroutine: Callable[..., Awaitable[T]], *args: Any) -> T:
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

        return dict(zip(paths, self.run(gather), strict=True))

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
        try:
            self.run(self._create_async, path, payload)
        finally:
            self._fresh(folder_of(path))

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

        try:
            return self.run(gather)
        finally:
            for path in dict.fromkeys(folder_of(path) for path, _ in items):
                self._fresh(path)


#: The user-metadata key of the random id each write of an object store carries.
WRITE_ID_KEY: Final = "minariwrite"


class ObjectStoreDriver(AsyncDriver):
    """The common part of the cloud object stores (S3, GCS, Azure Blob).

    A subclass supplies six requests: :meth:`get_object` (the body, capped, with
    its version token, in one request), :meth:`create_object` (create-only),
    :meth:`replace_object` (overwrite only if the version is unchanged),
    :meth:`write_id_of` (the id a write left in the object's user metadata),
    :meth:`pages` (a flat listing, page by page) and :meth:`delete_objects`.
    Everything else follows: no ``HEAD`` before a read, one listing request per
    page, concurrent batches, fsspec's listing cache cleared after every write.

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

    @abstractmethod
    async def get_object(self, path: str) -> Read:
        """The object's bytes (at most ``MAX_METADATA_BYTES + 1``) and version."""

    @abstractmethod
    async def create_object(self, path: str, payload: bytes, write_id: str) -> None:
        """Write ``path`` only if it is absent, carrying ``write_id``.

        Raises:
            FileExistsError: If the object exists.
        """

    @abstractmethod
    async def replace_object(self, path: str, payload: bytes, version: Any, write_id: str) -> None:
        """Overwrite ``path`` if its version is still ``version``, carrying ``write_id``.

        Raises:
            ConflictError: If the object changed (or is gone) since that version.
        """

    @abstractmethod
    async def write_id_of(self, path: str) -> str | None:
        """The write id stored with ``path`` (``None`` if absent or without one)."""

    async def _create_async(self, path: str, payload: bytes) -> None:
        write_id = secrets.token_hex(16)
        try:
            await self.create_object(path, payload, write_id)
        except Exception:
            # "Exists" may be our own write, retried after its answer was lost. If
            # that cannot be read either, its failure is raised: the outcome is unknown.
            if await self.write_id_of(path) == write_id:
                return
            raise

    async def _replace_async(self, path: str, payload: bytes, version: Any) -> None:
        write_id = secrets.token_hex(16)
        try:
            await self.replace_object(path, payload, version, write_id)
        except Exception:
            # A conflict may be our own write, retried after its answer was lost.
            if await self.write_id_of(path) == write_id:
                return
            raise

    @abstractmethod
    def delete_objects(self, paths: Sequence[str]) -> None:
        """Delete the objects ``paths``, in the order given."""

    @abstractmethod
    def pages(self, folder: str, *, delimiter: bool = False, limit: int = 0) -> Iterator[Page]:
        """Listing pages under ``folder/`` (the whole bucket for a bare bucket),
        recursive unless ``delimiter``; ``limit`` caps the page size."""

    async def _read_async(self, path: str) -> bytes | Missing:
        return (await self.get_object(path))[0]

    def read(self, path: str) -> bytes | Missing:
        return self.read_versioned(path)[0]

    def read_versioned(self, path: str) -> Read:
        return self.run(self.get_object, path)

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        if version is None:
            raise ConflictError(path)
        try:
            self.run(self._replace_async, path, payload, version)
        finally:
            self._fresh(folder_of(path))

    def remove(self, paths: Sequence[str], folder: str) -> None:
        try:
            self.delete_objects(paths)
        finally:
            self._fresh(folder)

    def find(self, path: str) -> dict[str, int]:
        return {
            name: size
            for objects, _ in self.pages(path)
            for name, size in objects.items()
            if not name.endswith("/")
        }

    def names(self, folder: str) -> list[str]:
        found = [
            name
            for names, folders in self.pages(folder, delimiter=True)
            for name in (*folders, *names)
        ]
        return [name.rstrip("/").rsplit("/", 1)[-1] for name in found if name.rstrip("/")]

    def held_paths(self, folder: str) -> set[str]:
        # Names are all a write needs: a plain listing, without the HEAD that s3fs's
        # ``find`` sends for an empty folder.
        base = f"{folder.rstrip('/')}/"
        try:
            found = self.find(folder)
        except FileNotFoundError:  # no bucket
            return set()
        return {name[len(base) :] for name in found if name.startswith(base)}

    def any_under(self, path: str) -> bool:
        # One request: a dataset folder on an object store is keys under ``data/``.
        return bool(next(iter(self.pages(path, limit=1)), ({}, []))[0])
