"""``FsspecNamespaceRepository``: namespaces on any fsspec filesystem.

Layout under the URL's root: ``<ns>/namespace_metadata.json`` (Minari's GCS layout
when the root is a bucket). Object stores have no folders: a namespace exists iff
its marker object does, and a key ``<folder>/data/...`` makes ``<folder>`` a dataset.

What each backend gives (see the "Backends" documentation page):

- every backend: create-only writes through ``pipe_file(..., mode="create")``;
  listing in one recursive ``find``; keys that are not valid ids are skipped
  with a warning; objects over 1 MiB are refused;
- S3 (``s3fs``): ``If-None-Match: *`` creates, ``If-Match`` compare-and-swap
  for ``replace``/``modify`` (retried on conflict), and batched GETs with no
  HEAD before them;
- ``file://``: temporary file + ``os.link``/``os.replace`` and a folder
  ``flock``, as the local repository, and no symbolic link followed;
- other backends (``memory://``, ``gs://``, ...): a single PUT per write;
  ``modify`` is serialised within this process only.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Final

from minari_namespaces.atomic import (
    DIR_FLAGS,
    LINK_ERRNOS,
    create_exclusive,
    folder_lock,
    is_temp_name,
    read_capped,
    replace_atomic,
)
from minari_namespaces.errors import (
    NamespaceConflictError,
    NamespaceError,
    NamespaceExistsError,
    NamespaceNotEmptyError,
    NamespaceNotFoundError,
    RemoteError,
    warn_skipped,
)
from minari_namespaces.identifier import NamespaceId, check_batch_twins, portable_key
from minari_namespaces.metadata import (
    MAX_METADATA_BYTES,
    METADATA_FILENAME,
    MetadataChange,
    NamespaceMetadata,
    decode_metadata,
)

__all__ = ["FsspecNamespaceRepository"]

_DATASET_MARKER: Final = "data"
_JUNK: Final = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_CAS_ATTEMPTS: Final = 50
_BATCH: Final = 64
#: Up to this many leaves, create_many checks conflicts level by level.
_SHALLOW_CHECKS: Final = 4
# ``user@`` or ``user:password@`` after the scheme; AWS secrets often hold ``/``.
_USERINFO: Final = re.compile(r"^([a-zA-Z][\w+.-]*://)([^/@:]*(?::[^@]*)?)@")
_EXTRAS: Final = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


class _Missing:
    """Marks an object that is not there."""


MISSING: Final = _Missing()
_Read = tuple[bytes | _Missing, Any]


class _ConflictError(Exception):
    """A conditional write lost against another writer."""


def _is_precondition_failure(error: BaseException) -> bool:
    """Whether ``error`` (or its cause) is an HTTP 412 / PreconditionFailed."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            info = response.get("Error", {})
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if info.get("Code") in ("PreconditionFailed", "412") or status == 412:
                return True
        text = str(current)
        if "PreconditionFailed" in text or "Precondition Failed" in text or "(412)" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def _walks_folders(fs: Any) -> bool:
    """Whether ``fs.find`` is fsspec's generic walk (one listing per folder)."""
    from fsspec.asyn import AsyncFileSystem
    from fsspec.spec import AbstractFileSystem

    if isinstance(fs, AsyncFileSystem):
        return type(fs)._find is AsyncFileSystem._find
    return type(fs).find is AbstractFileSystem.find


class _Driver:
    """Object I/O through the plain fsspec API (works on every backend)."""

    compare_and_swap = False

    def __init__(self, fs: Any) -> None:
        self.fs = fs
        self._lock = threading.RLock()
        self._list_by_folder = _walks_folders(fs)

    def read(self, path: str) -> bytes | _Missing:
        try:
            with self.fs.open(path, "rb") as handle:
                data: bytes = handle.read(MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return MISSING
        return data

    def read_versioned(self, path: str) -> _Read:
        return self.read(path), None

    def read_many(self, paths: builtins.list[str]) -> dict[str, bytes | _Missing]:
        return {path: self.read(path) for path in paths}

    def create(self, path: str, payload: bytes) -> None:
        self.fs.pipe_file(path, payload, mode="create")

    def write(self, path: str, payload: bytes) -> None:
        self.fs.pipe_file(path, payload)

    def create_all(self, items: builtins.list[tuple[str, bytes]]) -> builtins.list[bool]:
        """Create-only writes of ``(path, payload)``; ``True`` where one existed."""
        existed: builtins.list[bool] = []
        for path, payload in items:
            try:
                self.create(path, payload)
            except FileExistsError:
                existed.append(True)
            else:
                existed.append(False)
        return existed

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        self.write(path, payload)

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        with self._lock:
            yield

    def remove(self, paths: builtins.list[str], folder: str) -> None:
        for path in paths:
            self.fs.rm_file(path)

    def find(self, path: str) -> builtins.list[str]:
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

    def _walk_folders(self, root: str) -> builtins.list[str]:
        """Files under ``root``, one listing per folder. fsspec's generic walk
        silently skips every folder whose listing fails (its ``on_error`` does
        not reach sub-folders); here only a folder that has vanished is skipped,
        and any other failure fails the whole listing."""
        files: builtins.list[str] = []
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

    def names(self, folder: str) -> builtins.list[str]:
        """Names directly inside ``folder`` (files and folders); ``[]`` if none."""
        self.fs.invalidate_cache(folder)
        try:
            entries = self.fs.ls(folder, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries]

    def invalidate(self, path: str) -> None:
        self.fs.invalidate_cache(path)


class _AsyncDriver(_Driver):
    """Batched concurrent reads for asynchronous filesystems."""

    def read_many(self, paths: builtins.list[str]) -> dict[str, bytes | _Missing]:
        from fsspec.asyn import sync

        async def gather() -> builtins.list[bytes | _Missing]:
            results: builtins.list[bytes | _Missing] = []
            for start in range(0, len(paths), _BATCH):
                batch = paths[start : start + _BATCH]
                results.extend(await asyncio.gather(*(self._read_async(p) for p in batch)))
            return results

        return dict(zip(paths, sync(self.fs.loop, gather), strict=True))

    async def _read_async(self, path: str) -> bytes | _Missing:
        try:
            data: bytes = await self.fs._cat_file(path, start=0, end=MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return MISSING
        return data


class _S3Driver(_AsyncDriver):
    """S3 through s3fs: conditional PUTs and GETs that carry the ETag."""

    compare_and_swap = True

    async def _get(self, path: str) -> _Read:
        bucket, key, _ = self.fs.split_path(path)
        try:
            response = await self.fs._call_s3("get_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return MISSING, None
        body = response["Body"]
        try:
            if int(response.get("ContentLength") or 0) > MAX_METADATA_BYTES:
                # Closing the body unread keeps a hostile object from being
                # downloaded; the stand-in has the one property decoding checks first.
                data = b"\0" * (MAX_METADATA_BYTES + 1)
            else:
                data = await body.read()
        finally:
            body.close()
        return data, response.get("ETag")

    async def _read_async(self, path: str) -> bytes | _Missing:
        return (await self._get(path))[0]

    def read(self, path: str) -> bytes | _Missing:
        return self.read_versioned(path)[0]

    def read_versioned(self, path: str) -> _Read:
        from fsspec.asyn import sync

        return sync(self.fs.loop, self._get, path)  # type: ignore[no-any-return]

    def _put(self, path: str, payload: bytes, **conditions: str) -> None:
        bucket, key, _ = self.fs.split_path(path)
        try:
            self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=payload, **conditions)
        except OSError as error:
            if _is_precondition_failure(error):
                if "IfNoneMatch" in conditions:
                    raise FileExistsError(path) from error
                raise _ConflictError(path) from error
            raise
        finally:
            self.fs.invalidate_cache(path)

    def create(self, path: str, payload: bytes) -> None:
        self._put(path, payload, IfNoneMatch="*")

    def write(self, path: str, payload: bytes) -> None:
        self._put(path, payload)

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        if version is None:
            raise _ConflictError(path)
        self._put(path, payload, IfMatch=str(version))

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        yield

    def remove(self, paths: builtins.list[str], folder: str) -> None:
        if paths:
            self.fs.rm(paths)

    def _list_pages(self, folder: str, **options: str) -> Iterator[dict[str, Any]]:
        """ListObjectsV2 pages under ``folder/``: one request per 1,000 keys,
        and no HEAD (s3fs's ``find`` sends one when a prefix is empty)."""
        bucket, key, _ = self.fs.split_path(folder)
        prefix = f"{key.rstrip('/')}/" if key else ""
        token: dict[str, str] = {}
        while True:
            page = self.fs.call_s3(
                "list_objects_v2", Bucket=bucket, Prefix=prefix, **options, **token
            )
            yield page
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def find(self, path: str) -> builtins.list[str]:
        bucket = self.fs.split_path(path)[0]
        return [
            f"{bucket}/{entry['Key']}"
            for page in self._list_pages(path)
            for entry in page.get("Contents", ())
            if not entry["Key"].endswith("/")
        ]

    def names(self, folder: str) -> builtins.list[str]:
        found: builtins.list[str] = []
        for page in self._list_pages(folder, Delimiter="/"):
            found += [entry["Prefix"] for entry in page.get("CommonPrefixes", ())]
            found += [entry["Key"] for entry in page.get("Contents", ())]
        return [name.rstrip("/").rsplit("/", 1)[-1] for name in found if name.rstrip("/")]

    def create_all(self, items: builtins.list[tuple[str, bytes]]) -> builtins.list[bool]:
        """Create-only PUTs, concurrently; ``True`` where the object existed."""
        from fsspec.asyn import sync

        async def one(path: str, payload: bytes) -> bool:
            bucket, key, _ = self.fs.split_path(path)
            try:
                await self.fs._call_s3(
                    "put_object", Bucket=bucket, Key=key, Body=payload, IfNoneMatch="*"
                )
            except OSError as error:
                if isinstance(error, FileExistsError) or _is_precondition_failure(error):
                    return True
                raise
            finally:
                self.fs.invalidate_cache(path)
            return False

        async def gather() -> builtins.list[bool]:
            results: builtins.list[bool] = []
            for start in range(0, len(items), _BATCH):
                batch = items[start : start + _BATCH]
                # Let every PUT of the batch finish before raising, so that no
                # write lands after the call has failed.
                outcomes = await asyncio.gather(
                    *(one(p, d) for p, d in batch), return_exceptions=True
                )
                for outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome
                results += [outcome for outcome in outcomes if isinstance(outcome, bool)]
            return results

        return sync(self.fs.loop, gather)  # type: ignore[no-any-return]


class _FileDriver(_Driver):
    """``file://``: atomic writes and folder locks, no symbolic link followed."""

    compare_and_swap = False

    def __init__(self, fs: Any, root: str) -> None:
        super().__init__(fs)
        self._root = root

    @contextmanager
    def _folder(self, path: str, *, create: bool) -> Iterator[tuple[int, str] | None]:
        folder, name = path.rsplit("/", 1)
        relative = folder[len(self._root) :].strip("/")
        if create:
            os.makedirs(self._root, exist_ok=True)
        fds: builtins.list[int] = []
        try:
            try:
                fds.append(os.open(self._root, DIR_FLAGS))
                for part in relative.split("/") if relative else ():
                    if create:
                        with suppress(FileExistsError):
                            os.mkdir(part, dir_fd=fds[-1])
                    fds.append(os.open(part, DIR_FLAGS, dir_fd=fds[-1]))
            except FileNotFoundError:
                yield None
                return
            except OSError as error:
                if error.errno not in LINK_ERRNOS:
                    raise
                if create:
                    raise NamespaceConflictError(
                        f"{folder} is a file or a symbolic link, not a folder."
                    ) from error
                yield None
                return
            yield fds[-1], name
        finally:
            for fd in reversed(fds):
                os.close(fd)

    def read(self, path: str) -> bytes | _Missing:
        with self._folder(path, create=False) as found:
            if found is None:
                return MISSING
            data = read_capped(found[1], found[0], MAX_METADATA_BYTES)
        return MISSING if data is None else data

    def create(self, path: str, payload: bytes) -> None:
        with self._folder(path, create=True) as found:
            assert found is not None
            create_exclusive(found[0], found[1], payload)

    def write(self, path: str, payload: bytes) -> None:
        with self._folder(path, create=True) as found:
            assert found is not None
            replace_atomic(found[0], found[1], payload)

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        with self._folder(path, create=False) as found:
            if found is None:
                yield
                return
            with folder_lock(found[0]):
                yield

    def names(self, folder: str) -> builtins.list[str]:
        with self._folder(f"{folder}/x", create=False) as found:
            if found is None:
                return []
            with os.scandir(found[0]) as entries:
                return [entry.name for entry in entries]

    def find(self, path: str) -> builtins.list[str]:
        with self._folder(f"{path}/x", create=False) as found:
            if found is None:
                return []
            files: builtins.list[str] = []
            self._walk(found[0], path, files)
        return files

    def _walk(self, fd: int, path: str, files: builtins.list[str]) -> None:
        with os.scandir(fd) as entries:
            listed = [
                (
                    entry.name,
                    entry.is_dir(follow_symlinks=False),
                    entry.is_file(follow_symlinks=False),
                )
                for entry in entries
            ]
        for name, is_dir, is_file in listed:
            if is_file:
                files.append(f"{path}/{name}")
            elif is_dir:
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                try:
                    self._walk(child, f"{path}/{name}", files)
                finally:
                    os.close(child)

    def remove(self, paths: builtins.list[str], folder: str) -> None:
        for path in paths:
            with self._folder(path, create=False) as found:
                if found is not None:
                    os.unlink(found[1], dir_fd=found[0])
        with self._folder(f"{folder}/x", create=False) as found:
            if found is None:
                return
            with suppress(OSError):
                os.rmdir(folder)


def _redact(url: str) -> str:
    return _USERINFO.sub(r"\1", url)


def _userinfo_of(url: str) -> builtins.list[str]:
    """The credentials a URL carries before ``@`` (``s3://key:secret@bucket``)."""
    match = _USERINFO.match(url)
    if match is None or not match.group(2):
        return []
    userinfo = match.group(2)
    return [userinfo, *(part for part in re.split("[:/]", userinfo) if len(part) >= 4)]


def _install_hint(protocol: str, detail: str) -> str:
    """What to install for ``protocol``, unless ``detail`` says so already."""
    from fsspec.registry import known_implementations

    extra = _EXTRAS.get(protocol)
    if extra is not None:
        return f" Install it with: pip install 'minari-namespaces[{extra}]'."
    known = known_implementations.get(protocol)
    if known is None:
        return (
            f" No fsspec implementation is registered for '{protocol}://': check the URL, "
            "or install the package that provides this protocol."
        )
    advice = known.get("err")
    return f" {advice}." if advice and advice not in detail else ""


def _secrets_of(options: dict[str, Any]) -> builtins.list[str]:
    found: builtins.list[str] = []
    for value in options.values():
        if isinstance(value, str) and len(value) >= 4:
            found.append(value)
        elif isinstance(value, dict):
            found.extend(_secrets_of(value))
    return found


class FsspecNamespaceRepository:
    """Namespaces under any fsspec URL: ``s3://bucket/prefix``, ``gs://bucket``,
    ``file:///path``, ``memory://name``, ...

    Args:
        url: Where the tree lives. Credentials must go in ``storage_options``,
            never in the URL.
        **storage_options: Passed to the fsspec filesystem (``key``, ``secret``,
            ``token``, ``endpoint_url``, ...). They never appear in :attr:`url`,
            ``repr`` or error messages.

    Raises:
        RemoteError: If the backend is unknown or its package is not installed
            (install the matching extra, e.g. ``minari-namespaces[s3]``).
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec
        from fsspec.core import split_protocol

        protocol, _ = split_protocol(url)
        protocol = protocol or "file"
        # Longest first, so that no secret is left half-scrubbed by a shorter one.
        self._secrets = sorted(
            {*_secrets_of(storage_options), *_userinfo_of(url)}, key=len, reverse=True
        )
        self._url = self._scrub(_redact(url))
        try:
            cls = fsspec.get_filesystem_class(protocol)
            root = str(cls._strip_protocol(url))
            fs = cls(**storage_options)
        except (ImportError, ValueError) as error:
            detail = self._scrub(str(error))
            raise RemoteError(
                f"Cannot open the store at {self._url}: {detail}.{_install_hint(protocol, detail)}"
            ) from None
        self._root: str = root.rstrip("/") if root not in ("/", "") else root
        self._fs = fs
        if self._root:
            self._url = self._scrub(_redact(fs.unstrip_protocol(self._root)))
        protocols = {
            protocol,
            *(cls.protocol if isinstance(cls.protocol, tuple) else (cls.protocol,)),
        }
        if protocols & {"s3", "s3a"}:
            self._driver: _Driver = _S3Driver(fs)
        elif "file" in protocols or "local" in protocols:
            self._driver = _FileDriver(fs, self._root)
        elif getattr(fs, "async_impl", False):
            self._driver = _AsyncDriver(fs)
        else:
            self._driver = _Driver(fs)

    # -- naming ------------------------------------------------------------

    @property
    def url(self) -> str:
        """The store's URL, without credentials."""
        return self._url

    @property
    def fs(self) -> Any:
        """The underlying fsspec filesystem."""
        return self._fs

    @property
    def compare_and_swap(self) -> bool:
        """Whether ``replace``/``modify`` are compare-and-swap across processes
        (S3) rather than serialised by a lock (``file://``) or within this
        process only (other backends)."""
        return self._driver.compare_and_swap

    def __repr__(self) -> str:
        return f"FsspecNamespaceRepository({self._url!r})"

    def _folder(self, ns: NamespaceId | None) -> str:
        if ns is None:
            return self._root
        return f"{self._root}/{ns}" if self._root else str(ns)

    def _marker(self, ns: NamespaceId) -> str:
        return f"{self._folder(ns)}/{METADATA_FILENAME}"

    def _where(self, ns: NamespaceId) -> str:
        return f"{self._url.rstrip('/')}/{ns}/{METADATA_FILENAME}"

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def _backend(self, action: str, ns: NamespaceId | None = None) -> Iterator[None]:
        """Turn backend failures into ``RemoteError`` with a clean message."""
        try:
            yield
        except (NamespaceError, _ConflictError, FileExistsError):
            raise
        except Exception as error:
            where = self._url if ns is None else f"{self._url.rstrip('/')}/{ns}"
            detail = self._scrub(f"{type(error).__name__}: {error}")
            raise RemoteError(f"Could not {action} at {where}: {detail}") from error

    # -- reading -----------------------------------------------------------

    def exists(self, ns: NamespaceId) -> bool:
        """Whether the marker object of ``ns`` exists (one request).

        Raises:
            RemoteError: If the backend fails.
        """
        with self._backend("check namespace", ns):
            return not isinstance(self._driver.read(self._marker(ns)), _Missing)

    def get(self, ns: NamespaceId) -> NamespaceMetadata:
        """Read the metadata of ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the object is not a JSON object of at most 1 MiB.
            RemoteError: If the backend fails.
        """
        with self._backend("read namespace", ns):
            data = self._driver.read(self._marker(ns))
        if isinstance(data, _Missing):
            raise self._not_found(ns)
        return decode_metadata(data, self._where(ns))

    def get_many(self, ids: Iterable[NamespaceId]) -> dict[NamespaceId, NamespaceMetadata]:
        """Read several namespaces in one batched, concurrent request set.

        Raises:
            CorruptMetadataError: If an object is corrupt.
            RemoteError: If the backend fails.
        """
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        paths = [self._marker(ns) for ns in wanted]
        with self._backend("read namespaces"):
            found = self._driver.read_many(paths)
        result: dict[NamespaceId, NamespaceMetadata] = {}
        for ns, path in zip(wanted, paths, strict=True):
            data = found[path]
            if not isinstance(data, _Missing):
                result[ns] = decode_metadata(data, self._where(ns))
        return result

    def _not_found(self, ns: NamespaceId) -> NamespaceNotFoundError:
        return NamespaceNotFoundError(
            f"Namespace '{ns}' does not exist in {self._url} (no {METADATA_FILENAME})."
        )

    # -- listing -----------------------------------------------------------

    def _keys(self, prefix: NamespaceId | None) -> builtins.list[tuple[str, ...]]:
        """Every object under ``prefix`` as path segments relative to the root."""
        folder = self._folder(prefix)
        with self._backend("list namespaces", prefix):
            paths = self._driver.find(folder)
        base = f"{self._root}/" if self._root else ""
        keys: builtins.list[tuple[str, ...]] = []
        for path in paths:
            if not path.startswith(base):
                continue
            keys.append(tuple(path[len(base) :].split("/")))
        return keys

    def _scan(
        self, prefix: NamespaceId | None
    ) -> tuple[builtins.list[NamespaceId], set[tuple[str, ...]]]:
        """Namespaces under ``prefix`` and the folders that are datasets."""
        keys = self._keys(prefix)
        datasets = {key[:i] for key in keys for i, part in enumerate(key) if part == "data"}
        found: builtins.list[NamespaceId] = []
        skipped: builtins.list[str] = []
        for key in keys:
            if key[-1] != METADATA_FILENAME:
                continue
            parts = key[:-1]
            if not parts or _DATASET_MARKER in parts:
                continue
            if any(parts[:i] in datasets for i in range(1, len(parts) + 1)):
                continue
            text = "/".join(parts)
            try:
                ns = NamespaceId(text)
            except (ValueError, TypeError):
                skipped.append("/".join(key))
                continue
            if str(ns) != text:
                skipped.append("/".join(key))
                continue
            found.append(ns)
        if skipped:
            warn_skipped(skipped, f"key(s) in {self._url}", "")
        found.sort()
        return found, datasets

    def list(self, prefix: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        """Every namespace under ``prefix`` (included), in tree order.

        One recursive listing; dataset folders and invalid keys are skipped.

        Raises:
            RemoteError: If the backend fails.
        """
        found, datasets = self._scan(prefix)
        if prefix is not None and any(
            prefix.parts[:i] in datasets for i in range(1, prefix.depth + 1)
        ):
            return []
        return found

    def children(self, ns: NamespaceId | None = None) -> builtins.list[NamespaceId]:
        """The namespaces directly inside ``ns`` (top level for ``None``), sorted.

        Raises:
            RemoteError: If the backend fails.
        """
        depth = 1 if ns is None else ns.depth + 1
        return [child for child in self.list(ns) if child.depth == depth]

    def has_datasets(self, ns: NamespaceId) -> bool:
        """Whether a dataset folder lies directly inside ``ns``.

        Raises:
            RemoteError: If the backend fails.
        """
        _, datasets = self._scan(ns)
        return any(len(folder) == ns.depth + 1 for folder in datasets)

    # -- writing -----------------------------------------------------------

    def create(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Create ``ns`` with one create-only write; the store decides races.

        Raises:
            NamespaceExistsError: If ``ns`` exists.
            NamespaceConflictError: If a dataset or a case-only twin holds the path.
            RemoteError: If the backend fails.
        """
        payload = metadata.to_json_bytes()
        self._check_free(ns)
        self._put_new(ns, payload)

    def _check_free(self, ns: NamespaceId) -> None:
        """Refuse a path held by a dataset or a case-only twin: one shallow
        listing per level (``ns`` and every ancestor)."""
        with self._backend("check namespace", ns):
            for depth in range(ns.depth + 1):
                here = ns.parts[:depth]
                names = self._driver.names(self._folder_of(here))
                if depth > 0 and _DATASET_MARKER in names and self._holds(here, "data"):
                    raise self._dataset_conflict(ns, here)
                if depth == ns.depth:
                    return
                wanted = ns.parts[depth]
                twins = sorted(
                    name
                    for name in names
                    if name != wanted
                    and portable_key(name) == portable_key(wanted)
                    and self._holds(here, name)
                )
                if twins:
                    raise self._twin_conflict(ns, (*here, twins[0]))
                if wanted not in names:
                    return

    def _holds(self, parts: tuple[str, ...], name: str) -> bool:
        """Whether an object lies at or under ``parts/name``: some stores (such
        as SeaweedFS) keep listing a folder after its last key is gone."""
        path = f"{self._folder_of(parts)}/{name}" if parts or self._root else name
        if self._driver.find(path):
            return True
        return not isinstance(self._driver.read(path), _Missing)

    def _folder_of(self, parts: tuple[str, ...]) -> str:
        if not parts:
            return self._root
        return self._folder(NamespaceId._trusted("/".join(parts), parts))

    def _dataset_conflict(
        self, ns: NamespaceId, dataset: tuple[str, ...]
    ) -> NamespaceConflictError:
        what = "is" if dataset == ns.parts else "lies inside"
        return NamespaceConflictError(
            f"Cannot create namespace '{ns}': it {what} the dataset folder "
            f"'{'/'.join(dataset)}' in {self._url}. Namespaces cannot be created in or on datasets."
        )

    def _twin_conflict(self, ns: NamespaceId, twin: tuple[str, ...]) -> NamespaceConflictError:
        return NamespaceConflictError(
            f"Cannot create namespace '{ns}': '{'/'.join(twin)}' is a case-only twin in "
            f"{self._url}, which would collide on macOS and Windows. Rename one of them."
        )

    def create_many(
        self, items: Iterable[tuple[NamespaceId, NamespaceMetadata]]
    ) -> builtins.list[NamespaceId]:
        """Create each namespace in the given order (parents first), create-only.

        All conflicts are checked before anything is written: for a few chains
        of namespaces (an upload with its parents) by one shallow listing per
        level, so the cost does not grow with the tree; for a larger batch by one
        recursive listing of its subtree. Then one create-only write per namespace,
        a level at a time.

        Returns:
            The namespaces that already existed and were left as they were.

        Raises:
            NamespaceConflictError: If a dataset or a case-only twin holds a path.
            RemoteError: If the backend fails.
        """
        batch = [(ns, metadata.to_json_bytes()) for ns, metadata in items]
        if not batch:
            return []
        ids = [ns for ns, _ in batch]
        check_batch_twins(ids)
        leaves = {ns for ns in ids if not any(ns.is_ancestor_of(other) for other in ids)}
        if len(leaves) <= _SHALLOW_CHECKS:
            for leaf in sorted(leaves):
                self._check_free(leaf)  # covers every ancestor of the leaf too
            return self._create_levels(batch, existed=set())
        tops = {ns.parts[0] for ns, _ in batch}
        scope = NamespaceId(next(iter(tops))) if len(tops) == 1 else None
        keys = self._keys(scope)
        top_names = self._driver.names(self._root) if scope is not None else []
        folded: dict[tuple[tuple[str, ...], str], set[str]] = {}
        for folder in {key[:i] for key in keys for i in range(1, len(key))} | {
            (name,) for name in top_names
        }:
            folded.setdefault((folder[:-1], portable_key(folder[-1])), set()).add(folder[-1])
        datasets = {
            key[:i] for key in keys for i, part in enumerate(key) if part == _DATASET_MARKER
        }
        markers = {key[:-1] for key in keys if key[-1] == METADATA_FILENAME}
        for ns, _ in batch:
            for depth in range(1, ns.depth + 1):
                if ns.parts[:depth] in datasets:
                    raise self._dataset_conflict(ns, ns.parts[:depth])
                above, wanted = ns.parts[: depth - 1], ns.parts[depth - 1]
                for twin in sorted(folded.get((above, portable_key(wanted)), set()) - {wanted}):
                    if self._holds(above, twin):
                        raise self._twin_conflict(ns, (*above, twin))
        return self._create_levels(batch, existed={ns for ns, _ in batch if ns.parts in markers})

    def _create_levels(
        self, batch: builtins.list[tuple[NamespaceId, bytes]], existed: set[NamespaceId]
    ) -> builtins.list[NamespaceId]:
        """Create-only writes, one depth level at a time; return what existed."""
        for depth in sorted({ns.depth for ns, _ in batch}):
            # One level at a time, so a parent is always written before its children.
            level = [(ns, payload) for ns, payload in batch if ns.depth == depth]
            todo = [(ns, payload) for ns, payload in level if ns not in existed]
            with self._backend("create namespaces"):
                found = self._driver.create_all([(self._marker(ns), p) for ns, p in todo])
            existed |= {ns for (ns, _), was_there in zip(todo, found, strict=True) if was_there}
        return [ns for ns, _ in batch if ns in existed]

    def _put_new(self, ns: NamespaceId, payload: bytes) -> None:
        try:
            with self._backend("create namespace", ns):
                self._driver.create(self._marker(ns), payload)
        except RemoteError as error:
            if _is_precondition_failure(error):
                raise NamespaceExistsError(f"Namespace '{ns}' already exists.") from error
            raise
        except FileExistsError as error:
            raise NamespaceExistsError(f"Namespace '{ns}' already exists.") from error
        finally:
            self._driver.invalidate(self._folder(ns))

    def replace(self, ns: NamespaceId, metadata: NamespaceMetadata) -> None:
        """Overwrite the metadata of ``ns`` (only if it still exists).

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            RemoteError: If the backend fails.
        """
        self.modify(ns, lambda _current: metadata)

    def modify(self, ns: NamespaceId, change: MetadataChange) -> NamespaceMetadata:
        """Read, change and write ``ns`` without losing a concurrent update.

        On S3 this is a compare-and-swap on the ETag, retried on conflict; on
        ``file://`` it holds the folder's ``flock``; elsewhere it is serialised
        within this process only.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            CorruptMetadataError: If the object is corrupt.
            RemoteError: If the backend fails or the conflict never clears.
        """
        path = self._marker(ns)
        for attempt in range(_CAS_ATTEMPTS):
            with self._backend("update namespace", ns), self._driver.exclusive(path):
                data, version = self._driver.read_versioned(path)
                if isinstance(data, _Missing):
                    raise self._not_found(ns)
                updated = change(decode_metadata(data, self._where(ns)))
                try:
                    self._driver.write_if(path, updated.to_json_bytes(), version)
                except _ConflictError:
                    pass
                else:
                    return updated
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise RemoteError(
            f"Could not update namespace '{ns}' in {self._url}: "
            f"{_CAS_ATTEMPTS} concurrent writers kept winning; try again."
        )

    def delete(self, ns: NamespaceId) -> None:
        """Delete the empty namespace ``ns``.

        Raises:
            NamespaceNotFoundError: If ``ns`` does not exist.
            NamespaceNotEmptyError: If anything besides its marker lies under it.
            RemoteError: If the backend fails.
        """
        keys = self._keys(ns)
        marker = (*ns.parts, METADATA_FILENAME)
        if marker not in keys:
            raise self._not_found(ns)
        others = sorted(
            "/".join(key[ns.depth :])
            for key in keys
            if key != marker
            and not (
                len(key) == ns.depth + 1
                and (key[-1] in _JUNK or is_temp_name(key[-1], METADATA_FILENAME))
            )
        )
        if others:
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            raise NamespaceNotEmptyError(
                f"Namespace '{ns}' is not empty: {self._url.rstrip('/')}/{ns} still holds "
                f"{shown}. Delete its datasets and child namespaces first."
            )
        base = self._folder(ns)
        paths = [f"{base}/{key[-1]}" for key in keys if len(key) == ns.depth + 1]
        with self._backend("delete namespace", ns):
            self._driver.remove(sorted(paths, key=lambda p: p.endswith(METADATA_FILENAME)), base)
            self._driver.invalidate(base)
