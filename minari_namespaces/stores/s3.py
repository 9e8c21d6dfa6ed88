"""The S3 driver (s3fs): conditional PUTs, GETs that carry the ETag, direct listings.

- create: ``PutObject`` with ``If-None-Match: *``; a 412 means the object exists
  (SeaweedFS sends its 412 without a condition field, and s3fs raises
  ``OSError(EINVAL)`` for it: decided by the status code, never by message text);
- compare-and-swap: ``PutObject`` with ``If-Match: <ETag read in the same GET>``;
- reads: ``GetObject`` with no HEAD before it; a body over the cap is closed unread;
- listing: ``ListObjectsV2`` directly, one request per 1,000 keys and no HEAD
  (s3fs's ``find`` sends one when a prefix is empty).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores.driver import (
    BATCH,
    MISSING,
    AsyncDriver,
    ConflictError,
    Missing,
    Read,
)

__all__ = ["S3Driver", "is_precondition_failure"]

_PRECONDITION_FAILED = 412


def is_precondition_failure(error: BaseException) -> bool:
    """Whether ``error`` or an exception it was raised from is an HTTP 412,
    judged by the status code botocore reports, never by message text."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = response.get("Error", {}).get("Code")
            if status == _PRECONDITION_FAILED or code in ("PreconditionFailed", "412"):
                return True
        current = current.__cause__ or current.__context__
    return False


class S3Driver(AsyncDriver):
    """S3 through s3fs: conditional PUTs and GETs that carry the ETag."""

    compare_and_swap = True

    async def _get(self, path: str) -> Read:
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

    async def _read_async(self, path: str) -> bytes | Missing:
        return (await self._get(path))[0]

    def read(self, path: str) -> bytes | Missing:
        return self.read_versioned(path)[0]

    def read_versioned(self, path: str) -> Read:
        from fsspec.asyn import sync

        return sync(self.fs.loop, self._get, path)  # type: ignore[no-any-return]

    def _put(self, path: str, payload: bytes, **conditions: str) -> None:
        bucket, key, _ = self.fs.split_path(path)
        try:
            self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=payload, **conditions)
        except OSError as error:
            if is_precondition_failure(error):
                if "IfNoneMatch" in conditions:
                    raise FileExistsError(path) from error
                raise ConflictError(path) from error
            raise
        finally:
            self.fs.invalidate_cache(path)

    def create(self, path: str, payload: bytes) -> None:
        self._put(path, payload, IfNoneMatch="*")

    def write_if(self, path: str, payload: bytes, version: Any) -> None:
        if version is None:
            raise ConflictError(path)
        self._put(path, payload, IfMatch=str(version))

    @contextmanager
    def exclusive(self, path: str) -> Iterator[None]:
        yield

    def remove(self, paths: Sequence[str], folder: str) -> None:
        if paths:
            self.fs.rm(list(paths))

    def _list_pages(self, folder: str, **options: Any) -> Iterator[dict[str, Any]]:
        """ListObjectsV2 pages under ``folder/``: one request per 1,000 keys."""
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

    def find(self, path: str) -> list[str]:
        bucket = self.fs.split_path(path)[0]
        return [
            f"{bucket}/{entry['Key']}"
            for page in self._list_pages(path)
            for entry in page.get("Contents", ())
            if not entry["Key"].endswith("/")
        ]

    def names(self, folder: str) -> list[str]:
        found: list[str] = []
        for page in self._list_pages(folder, Delimiter="/"):
            found += [entry["Prefix"] for entry in page.get("CommonPrefixes", ())]
            found += [entry["Key"] for entry in page.get("Contents", ())]
        return [name.rstrip("/").rsplit("/", 1)[-1] for name in found if name.rstrip("/")]

    def any_under(self, path: str) -> bool:
        # One request: a dataset folder on an object store is keys under ``data/``.
        return bool(next(self._list_pages(path, MaxKeys=1)).get("Contents"))

    def create_all(self, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Create-only PUTs, concurrently; ``True`` where the object existed."""
        from fsspec.asyn import sync

        async def one(path: str, payload: bytes) -> bool:
            bucket, key, _ = self.fs.split_path(path)
            try:
                await self.fs._call_s3(
                    "put_object", Bucket=bucket, Key=key, Body=payload, IfNoneMatch="*"
                )
            except OSError as error:
                if isinstance(error, FileExistsError) or is_precondition_failure(error):
                    return True
                raise
            finally:
                self.fs.invalidate_cache(path)
            return False

        async def gather() -> list[bool]:
            results: list[bool] = []
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
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
