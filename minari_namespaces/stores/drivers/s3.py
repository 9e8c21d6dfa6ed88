"""The S3 driver (s3fs): conditional PUTs, GETs that carry the ETag, direct listings.

- create: ``PutObject`` with ``If-None-Match: *``; a 412 means the object exists
  (SeaweedFS sends its 412 without a condition field, and s3fs raises
  ``OSError(EINVAL)`` for it: decided by the status code, never by message text);
- compare-and-swap: ``PutObject`` with ``If-Match: <ETag read in the same GET>``;
- reads: ``GetObject`` with no HEAD before it, presigned, of the first
  ``MAX_METADATA_BYTES + 1`` bytes with the ETag (``NoSuchKey``: missing); where
  that declines (any other error), botocore's, whose body over the cap is closed
  unread;
- listing: ``ListObjectsV2`` directly, one request per 1,000 keys and no HEAD
  (s3fs's ``find`` sends one when a prefix is empty);
- a dataset's files up to :data:`SINGLE_PUT_BYTES`: one PUT, its body streamed;
- a dataset's small files: a presigned ``GetObject`` or ``PutObject`` sent
  through the client's HTTP session, past botocore's per-request pipeline
  (:mod:`~minari_namespaces.stores.drivers.s3_presigned`); s3fs when that declines;
- listings: botocore parses every key's ``LastModified`` with ``dateutil`` (about
  90 microseconds each, most of a listing's CPU); the filesystem's own session
  reads S3's ``2026-12-06T23:11:14.000Z`` form with ``datetime.fromisoformat``
  instead (:func:`quick_timestamp`), anything else as botocore does;
- lost answers: each PUT carries ``x-amz-meta-minariwrite: <random id>``; after a
  failed PUT, or a 412 to botocore's own retry of a PUT that had landed, one
  ``HeadObject`` tells whether the object holds our write.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import wait
from dataclasses import replace
from datetime import datetime
from functools import cache, cached_property
from typing import Any, Final

from minari_namespaces.dataset_files import DatasetFile, DatasetWrite, Digest
from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores.drivers.async_files import Pipe, PipeClosedError, Written
from minari_namespaces.stores.drivers.driver import MISSING, ConflictError, Missing, Read
from minari_namespaces.stores.drivers.fsspec_driver import (
    WRITE_ID_KEY,
    ObjectStoreDriver,
    Page,
    md5_of,
    version_of,
)
from minari_namespaces.stores.drivers.retry import RetryPolicy
from minari_namespaces.stores.drivers.s3_presigned import PresignedRequests
from minari_namespaces.stores.drivers.status import is_precondition_failure

__all__ = ["SINGLE_PUT_BYTES", "S3Driver", "quick_timestamp"]

#: S3's own timestamp form, in UTC: what :func:`quick_timestamp` reads itself.
_S3_TIMESTAMP: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")

#: The biggest dataset file written in one PUT (a bigger one goes in multipart
#: parts): one request instead of three or more, and no parts for the store to
#: join; a failed request sends at most this much again.
SINGLE_PUT_BYTES: Final = 64 * 1024 * 1024


class S3Driver(ObjectStoreDriver):
    """S3 through s3fs: conditional PUTs and GETs that carry the ETag."""

    extra = "s3"

    def __init__(self, fs: Any, root: str, *, retry: RetryPolicy | None = None) -> None:
        super().__init__(fs, root, retry=retry)
        if fs.session is None:
            # The session s3fs would make on first use, made now to set how its
            # responses are parsed; a session the caller passed is left as it is.
            from aiobotocore.session import AioSession

            fs.session = AioSession(**fs.kwargs)
            fs.session.get_component("response_parser_factory").set_parser_defaults(
                timestamp_parser=quick_timestamp
            )

    async def get_object(self, path: str) -> Read:
        """A presigned ``GET`` of at most ``MAX_METADATA_BYTES + 1`` bytes, with its
        ETag (or missing, where S3 answers ``NoSuchKey``); where that declines (any
        other error), botocore's."""
        presigned = await self._presigned.get_with_etag(path, MAX_METADATA_BYTES)
        if isinstance(presigned, Missing):
            return MISSING, None
        if presigned is not None:
            return presigned
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

    async def _put(self, path: str, payload: bytes, write_id: str, **conditions: str) -> None:
        bucket, key, _ = self.fs.split_path(path)
        try:
            await self.fs._call_s3(
                "put_object",
                Bucket=bucket,
                Key=key,
                Body=payload,
                Metadata={WRITE_ID_KEY: write_id},
                **conditions,
            )
        except OSError as error:
            if isinstance(error, FileExistsError) or is_precondition_failure(error):
                if "IfNoneMatch" in conditions:
                    raise FileExistsError(path) from error
                raise ConflictError(path) from error
            raise

    async def create_object(self, path: str, payload: bytes, write_id: str) -> None:
        await self._put(path, payload, write_id, IfNoneMatch="*")

    async def replace_object(self, path: str, payload: bytes, version: Any, write_id: str) -> None:
        await self._put(path, payload, write_id, IfMatch=str(version))

    async def write_id_of(self, path: str) -> str | None:
        bucket, key, _ = self.fs.split_path(path)
        try:
            head = await self.fs._call_s3("head_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return None
        found = head.get("Metadata", {}).get(WRITE_ID_KEY)
        return found if isinstance(found, str) else None

    @cached_property
    def _presigned(self) -> PresignedRequests:
        return PresignedRequests(self.fs)

    async def fetch_whole(self, path: str, size: int) -> bytes:
        data = await self._presigned.get(path, size)
        return await super().fetch_whole(path, size) if data is None else data

    def write_file(self, path: str, file: DatasetFile, write: DatasetWrite) -> Written:
        """A file up to :data:`SINGLE_PUT_BYTES` in one presigned PUT whose body
        streams from the source (:class:`Pipe`: memory flat in file size), described
        by the ETag it answers with; a bigger one, or one the short path declines,
        in multipart parts (a listing checks those)."""
        if file.size > SINGLE_PUT_BYTES or not self._presigned.usable:
            return super().write_file(path, file, write)
        pipe = Pipe(self.fs.loop)

        async def send() -> str | None:
            try:
                return await self._presigned.put_stream(path, file.size, pipe.chunks())
            finally:
                pipe.stop()

        request = asyncio.run_coroutine_threadsafe(send(), self.fs.loop)
        counted = _Counted(write.on_bytes)
        try:
            digest: Digest | None = replace(write, on_bytes=counted).copy(
                file, pipe.write, path, md5=True
            )
        except PipeClosedError:
            digest = None
        except BaseException:
            pipe.abort(ConnectionAbortedError(f"the copy to {path} stopped"))
            wait([request])
            raise
        else:
            pipe.close()
        etag = request.result()
        if etag is None or digest is None:
            # Redone from the start: the bytes the declined try counted count once.
            return super().write_file(path, file, replace(write, on_bytes=counted.again))
        return digest, _stored(etag, file.size, file.path)

    async def put_whole(self, path: str, data: bytes) -> DatasetFile | None:
        """One PutObject; its ETag is the MD5 of what the store holds (of a
        single-part object stored plainly)."""
        etag = await self._presigned.put(path, data)
        if etag is None:
            bucket, key, _ = self.fs.split_path(path)
            answer = await self.fs._call_s3("put_object", Bucket=bucket, Key=key, Body=data)
            etag = answer.get("ETag")
        return _stored(etag, len(data))

    def delete_objects(self, paths: Sequence[str]) -> None:
        if paths:
            self.fs.rm(list(paths))

    def pages(self, folder: str, *, delimiter: bool = False, limit: int = 0) -> Iterator[Page]:
        """ListObjectsV2 pages under ``folder/``: one request per 1,000 keys."""
        bucket, key, _ = self.fs.split_path(folder)
        prefix = f"{key.rstrip('/')}/" if key else ""
        options: dict[str, Any] = {"Delimiter": "/"} if delimiter else {}
        if limit:
            options["MaxKeys"] = limit
        while True:
            page = self.fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix, **options)
            yield (
                {
                    f"{bucket}/{entry['Key']}": int(entry["Size"])
                    for entry in page.get("Contents", ())
                },
                [f"{bucket}/{entry['Prefix']}" for entry in page.get("CommonPrefixes", ())],
            )
            if limit or not page.get("IsTruncated"):
                return
            options["ContinuationToken"] = page["NextContinuationToken"]


class _Counted:
    """An ``on_bytes`` callback passed through, keeping count; :meth:`again`, for a
    copy redone from the start, passes on only what goes past that count (and a
    zero for the rest: the callback's check for an interruption still runs)."""

    def __init__(self, on_bytes: Callable[[int], None] | None) -> None:
        self._on_bytes = on_bytes
        self._counted = 0

    def __call__(self, size: int) -> None:
        self._counted += size
        if self._on_bytes is not None:
            self._on_bytes(size)

    def again(self, size: int) -> None:
        known = min(self._counted, size)
        self._counted -= known
        if self._on_bytes is not None:
            self._on_bytes(size - known)


def quick_timestamp(value: Any) -> Any:
    """A timestamp of a response as botocore parses it (the same instant, UTC
    offset and text), in a few microseconds where it is exactly in S3's listing
    form (``2026-12-06T23:11:14.000Z``); any other form by botocore's own parser."""
    botocores, utc = _timestamp_parts()
    if isinstance(value, str) and _S3_TIMESTAMP.fullmatch(value):
        try:
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=utc)
        except ValueError:
            pass  # a fraction Python 3.10 does not read, or no such day
    return botocores(value)


@cache
def _timestamp_parts() -> tuple[Callable[[Any], Any], Any]:
    """botocore's timestamp parser and the UTC zone it gives, imported once (the
    S3 extra's packages, never imported before an S3 store is opened)."""
    from botocore.parsers import DEFAULT_TIMESTAMP_PARSER
    from dateutil.tz import tzutc

    return DEFAULT_TIMESTAMP_PARSER, tzutc()


def _stored(etag: str | None, size: int, path: str = "") -> DatasetFile | None:
    """The file a PUT of ``size`` bytes stored at ``path`` (relative to its dataset),
    as its ETag describes it; ``None`` where the ETag is no MD5 (an encrypted
    object's): a listing checks it then."""
    info = {"ETag": etag, "size": size}
    md5 = md5_of(info)
    return None if md5 is None else DatasetFile(path, size, version_of(info), md5)
