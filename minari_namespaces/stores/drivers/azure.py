"""The Azure Blob Storage driver (adlfs): conditions on the ETag.

The requests go through the Azure SDK client that adlfs builds from the storage
options (its credentials, endpoint and retries):

- create: ``Put Blob`` with ``If-None-Match: *`` (``overwrite=False``); the SDK's
  ``ResourceExistsError`` means the blob exists;
- compare-and-swap: ``Put Blob`` with ``If-Match: <ETag read>``
  (``MatchConditions.IfNotModified``); a 412 (``ResourceModifiedError``) is a
  conflict;
- reads: one ranged ``Get Blob`` for at most ``MAX_METADATA_BYTES + 1`` bytes,
  whose ETag is the version;
- listing: ``List Blobs`` directly, one request per 5,000 keys;
- lost answers: each ``Put Blob`` carries the metadata ``minariwrite: <random
  id>``; after a failed ``Put Blob``, or a 409/412 to the SDK's own retry of one
  that had landed, one ``Get Blob Properties`` tells whether the blob holds our write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from minari_namespaces.metadata import MAX_METADATA_BYTES
from minari_namespaces.stores.drivers.driver import MISSING, ConflictError, Read
from minari_namespaces.stores.drivers.fsspec_driver import (
    WRITE_ID_KEY,
    ObjectStoreDriver,
    Page,
    split_bucket,
)
from minari_namespaces.stores.drivers.status import (
    PRECONDITION_FAILED,
    RANGE_NOT_SATISFIABLE,
    status_of,
)

__all__ = ["AzureBlobDriver"]

_PAGE: Final = 5000


@asynccontextmanager
async def _plain_errors() -> AsyncIterator[None]:
    """The SDK's errors as one-line ``OSError``: its messages carry the request
    id, a timestamp and the XML answer on many lines."""
    from azure.core.exceptions import AzureError

    try:
        yield
    except AzureError as error:
        text = str(getattr(error, "message", None) or error).strip().splitlines()
        code = getattr(error, "error_code", None) or type(error).__name__
        status = status_of(error)
        answer = f"{status} {code}" if status else str(code)
        raise OSError(f"Azure answered {answer}: {text[0] if text else ''}".rstrip()) from error


class AzureBlobDriver(ObjectStoreDriver):
    """Azure Blob Storage through adlfs's SDK client: ETag conditions."""

    extra = "azure"
    # The SDK hands each staged block to aiohttp as raw bytes, which warns (a
    # ResourceWarning in the user's program) above 1 MiB: blocks of exactly 1 MiB.
    write_block = 1024 * 1024

    def _blob(self, path: str) -> Any:
        container, blob = split_bucket(path)
        return self.fs.service_client.get_blob_client(container=container, blob=blob)

    async def get_object(self, path: str) -> Read:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        async with _plain_errors(), self._blob(path) as client:
            try:
                stream = await client.download_blob(offset=0, length=MAX_METADATA_BYTES + 1)
            except ResourceNotFoundError:
                return MISSING, None
            except HttpResponseError as error:
                # A range cannot be satisfied by an empty blob: it is there, and empty.
                if status_of(error) != RANGE_NOT_SATISFIABLE:
                    raise
                return b"", None
            data: bytes = await stream.readall()
        return data, stream.properties.etag

    async def create_object(self, path: str, payload: bytes, write_id: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        async with _plain_errors(), self._blob(path) as client:
            try:
                await client.upload_blob(
                    payload,
                    overwrite=False,
                    metadata={WRITE_ID_KEY: write_id},
                    content_settings=ContentSettings(content_type="application/json"),
                )
            except ResourceExistsError as error:
                raise FileExistsError(path) from error

    async def replace_object(self, path: str, payload: bytes, version: Any, write_id: str) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.storage.blob import ContentSettings

        async with _plain_errors(), self._blob(path) as client:
            try:
                await client.upload_blob(
                    payload,
                    overwrite=True,
                    etag=str(version),
                    match_condition=MatchConditions.IfNotModified,
                    metadata={WRITE_ID_KEY: write_id},
                    content_settings=ContentSettings(content_type="application/json"),
                )
            except ResourceNotFoundError as error:
                raise ConflictError(path) from error
            except HttpResponseError as error:
                if status_of(error) == PRECONDITION_FAILED:
                    raise ConflictError(path) from error
                raise

    async def write_id_of(self, path: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        async with _plain_errors(), self._blob(path) as client:
            try:
                properties = await client.get_blob_properties()
            except ResourceNotFoundError:
                return None
        found = (properties.metadata or {}).get(WRITE_ID_KEY)
        return found if isinstance(found, str) else None

    def delete_objects(self, paths: Sequence[str]) -> None:
        async def delete(path: str) -> None:
            async with _plain_errors(), self._blob(path) as client:
                await client.delete_blob()

        for path in paths:
            self.run(delete, path)

    def pages(self, folder: str, *, delimiter: bool = False, limit: int = 0) -> Iterator[Page]:
        """``List Blobs`` pages under ``folder/``: one request per 5,000 keys."""
        container, key = split_bucket(folder)
        prefix = f"{key.rstrip('/')}/" if key else None
        client = self.fs.service_client.get_container_client(container)
        size = limit or _PAGE
        listing = (
            client.walk_blobs(name_starts_with=prefix, delimiter="/", results_per_page=size)
            if delimiter
            else client.list_blobs(name_starts_with=prefix, results_per_page=size)
        )
        pages: AsyncIterator[Any] = listing.by_page()

        async def next_page() -> Page | None:
            async with _plain_errors():
                try:
                    page = await pages.__anext__()
                except StopAsyncIteration:
                    return None
                objects: dict[str, int] = {}
                folders: list[str] = []
                async for item in page:
                    full = f"{container}/{item.name}"
                    if delimiter and full.endswith("/"):
                        folders.append(full)  # a prefix: no size
                    else:
                        objects[full] = int(item.size or 0)
                return objects, folders

        while (found := self.run(next_page)) is not None:
            yield found
            if limit:
                return
