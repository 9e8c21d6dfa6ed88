"""The Google Cloud Storage driver (gcsfs): preconditions on the object generation.

- create: a multipart upload with ``ifGenerationMatch=0``; a 412 means the object
  exists (gcsfs raises ``FileExistsError`` for every 412, and the generation
  match is the only precondition sent);
- compare-and-swap: the same upload with ``ifGenerationMatch=<generation read>``.
  gcsfs sends no generation match on an overwrite, so the upload goes through
  its request layer (its credentials, retries and endpoint) with the condition
  added. A multipart upload, not a simple media upload: emulators honour
  preconditions only on the former;
- reads: one ``GET ...?alt=media`` for at most ``MAX_METADATA_BYTES + 1`` bytes,
  whose ``X-Goog-Generation`` header is the version, with no metadata request
  before it;
- listing: ``objects.list`` directly, one request per 1,000 keys;
- lost answers: each upload carries the custom metadata ``minariwrite: <random
  id>``; after a failed upload, or a 412 to gcsfs's own retry of an upload that
  had landed, one ``objects.get`` tells whether the object holds our write.

Object names are quoted whole (``#``, ``?`` and ``%`` are plain characters of a
name here, never a generation suffix or a query).
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator, Sequence
from typing import Any, Final
from urllib.parse import quote

from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores.drivers.driver import MISSING, ConflictError, Driver, Read
from minari_namespaces.stores.drivers.fsspec_driver import (
    WRITE_ID_KEY,
    ObjectStoreDriver,
    Page,
    split_bucket,
)
from minari_namespaces.stores.drivers.status import RANGE_NOT_SATISFIABLE, status_of

__all__ = ["GcsDriver"]

_PAGE: Final = 1000


class GcsDriver(ObjectStoreDriver):
    """Google Cloud Storage through gcsfs: generation preconditions."""

    extra = "gcs"
    # gcsfs hands each resumable chunk to aiohttp as raw bytes, which warns above
    # 1 MiB (a ResourceWarning in the user's program): chunks of exactly 1 MiB.
    write_block = 1024 * 1024

    @classmethod
    def connect(cls, url: str, options: dict[str, Any]) -> tuple[Driver, str]:
        """Open the bucket with gcsfs's JSON-API filesystem (a subclass registered
        for the protocol by the user is kept). gcsfs's default class (since
        2026.x) first probes each bucket over gRPC for zonal storage, which every
        request here bypasses anyway, and which waits about a minute per call
        against an emulator."""
        import fsspec
        from fsspec.core import split_protocol
        from gcsfs.core import GCSFileSystem

        fs_class = fsspec.get_filesystem_class(split_protocol(url)[0] or "gs")
        if fs_class.__module__.startswith("gcsfs."):  # not a subclass of the user's own
            fs_class = GCSFileSystem
        return cls.open_with(fs_class, url, options)

    def _object_url(self, path: str, *, media: bool) -> str:
        bucket, key = split_bucket(path)
        kind = "download/storage/v1" if media else "storage/v1"
        url = f"{self.fs._location}/{kind}/b/{quote(bucket, safe='')}/o/{quote(key, safe='')}"
        return f"{url}?alt=media" if media else url

    async def get_object(self, path: str) -> Read:
        try:
            headers, data = await self.fs._call(
                "GET",
                self._object_url(path, media=True),
                headers={"Range": f"bytes=0-{MAX_METADATA_BYTES}"},
            )
        except FileNotFoundError:
            return MISSING, None
        except Exception as error:
            # A range cannot be satisfied by an empty object: it is there, and empty.
            if status_of(error) != RANGE_NOT_SATISFIABLE:
                raise
            return b"", None
        return bytes(data), headers.get("X-Goog-Generation")

    async def _upload(self, path: str, payload: bytes, generation: str, write_id: str) -> None:
        """One multipart upload of ``payload`` to ``path`` if its generation is
        ``generation`` (``"0"``: if it does not exist)."""
        bucket, key = split_bucket(path)
        boundary = f"minari-{secrets.token_hex(16)}"
        head = json.dumps(
            {"name": key, "contentType": "application/json", "metadata": {WRITE_ID_KEY: write_id}}
        )
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                head.encode(),
                f"\r\n--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
                payload,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        await self.fs._call(
            "POST",
            f"{self.fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
            uploadType="multipart",
            ifGenerationMatch=generation,
            headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
            # A file object: aiohttp warns that raw bytes over 1 MiB block the loop,
            # and gcsfs rewinds it for a retry.
            data=io.BytesIO(body),
            json_out=True,
        )

    async def create_object(self, path: str, payload: bytes, write_id: str) -> None:
        await self._upload(path, payload, "0", write_id)

    async def replace_object(self, path: str, payload: bytes, version: Any, write_id: str) -> None:
        try:
            await self._upload(path, payload, str(version), write_id)
        except FileExistsError as error:  # gcsfs's name for every 412
            raise ConflictError(path) from error

    async def write_id_of(self, path: str) -> str | None:
        try:
            info = await self.fs._call("GET", self._object_url(path, media=False), json_out=True)
        except FileNotFoundError:
            return None
        found = (info.get("metadata") or {}).get(WRITE_ID_KEY)
        return found if isinstance(found, str) else None

    def delete_objects(self, paths: Sequence[str]) -> None:
        for path in paths:
            self.fs.call("DELETE", self._object_url(path, media=False))

    def pages(self, folder: str, *, delimiter: bool = False, limit: int = 0) -> Iterator[Page]:
        """``objects.list`` pages under ``folder/``: one request per 1,000 keys."""
        bucket, key = split_bucket(folder)
        prefix = f"{key.rstrip('/')}/" if key else ""
        token: str | None = None
        while True:
            try:
                page = self.fs.call(
                    "GET",
                    f"{self.fs._location}/storage/v1/b/{quote(bucket, safe='')}/o",
                    prefix=prefix or None,
                    delimiter="/" if delimiter else None,
                    maxResults=limit or _PAGE,
                    pageToken=token,
                    json_out=True,
                )
            except FileNotFoundError as error:  # a listing is a 404 only without its bucket
                raise FileNotFoundError(f"the bucket '{bucket}' does not exist") from error
            yield (
                {
                    f"{bucket}/{item['name']}": int(item.get("size") or 0)
                    for item in page.get("items", ())
                },
                [f"{bucket}/{name}" for name in page.get("prefixes", ())],
            )
            token = page.get("nextPageToken")
            if limit or not token:
                return
