"""A dataset's small files and a namespace's metadata over S3 in plain signed
requests: the short path past botocore's per-request pipeline.

botocore spends about 2 ms of CPU on each request (endpoint rules, parameter
validation, the user agent, event hooks, response parsing with dateutil), more
than a small dataset file takes to move over a fast network; on fsspec's one
event-loop thread that CPU is the limit of a dataset of 1,000 small files, and of
``get_many`` of 2,000 namespaces. Here each small ``GetObject`` and
``PutObject`` is signed by the client's own
:meth:`generate_presigned_url` (its credentials, region, addressing style and
signature version, so nothing about signing is ours) and sent through the
client's own HTTP session (its proxies, TLS settings, timeouts and connection
pool). Two things botocore does on every request are kept: the
``before-send`` event is emitted with the request (request counters, stubs and
in-process mocks see it, and a handler's answer is taken as botocore takes it),
and nothing but a plain success is believed (but for a namespace's metadata
file, where S3's ``NoSuchKey`` means missing, as it does through s3fs). A read
asks for a range and is read only if the answer says it holds no more than that
(``Content-Length``): a server that ignores ranges cannot make it hold a big
object in memory.

Anything else goes the long way, through s3fs: an error status (its typed
error, a region redirect, a throttle's retries), a failed connection, a
filesystem that adds request parameters (``requester_pays``,
``s3_additional_kwargs``: those would have to be signed), a versioned path, or a
client without the pieces this needs. The short path never raises an error of
its own; it only answers, or declines.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any, Final

from minari_namespaces.stores.drivers.driver import MISSING, Missing

__all__ = ["PresignedRequests"]

#: Seconds a presigned URL stays valid: it is used at once.
EXPIRES: Final = 300
_SUCCESS: Final = frozenset({200, 206})
#: The longest error answer read to learn its code.
_ERROR_BYTES: Final = 64 * 1024


class PresignedRequests:
    """Small ``GetObject`` and ``PutObject`` requests of one s3fs filesystem, in
    presigned form (see the module's text); each returns ``None`` to decline.

    Args:
        fs: The s3fs filesystem (asynchronous API, on its own loop).
    """

    def __init__(self, fs: Any) -> None:
        self._fs = fs
        # Parameters s3fs adds to every request would have to be signed too.
        self._usable = not getattr(fs, "req_kw", None) and not getattr(
            fs, "s3_additional_kwargs", None
        )

    async def get(self, path: str, size: int) -> bytes | None:
        """The first ``size + 1`` bytes of the object (fewer if it is shorter), or
        ``None`` to decline (a missing object too: the long way raises its error)."""
        answer = await self._ranged(path, size, missing=False)
        return answer[1] if isinstance(answer, tuple) else None

    async def get_with_etag(
        self, path: str, size: int
    ) -> tuple[bytes, str | None] | Missing | None:
        """The first ``size + 1`` bytes of the object (fewer if it is shorter) and
        its ETag; :data:`MISSING` where the store answers ``NoSuchKey``; or ``None``
        to decline."""
        answer = await self._ranged(path, size, missing=True)
        if answer is None or isinstance(answer, Missing):
            return answer
        etag = answer[0].get("etag")
        return answer[1], None if etag is None else str(etag)

    async def put(self, path: str, data: bytes) -> str | None:
        """Write the whole object; its ETag as the store answered it (``""`` when
        it sent none), or ``None`` to decline, the object perhaps written (the long
        way writes it again, whole)."""
        return await self._put(path, {}, data)

    async def put_stream(self, path: str, size: int, body: AsyncIterator[bytes]) -> str | None:
        """Write the whole object of ``size`` bytes from ``body`` in one request, as
        :meth:`put` does; a body that fails or ends short fails the request (the
        store keeps nothing of it)."""
        return await self._put(path, {"Content-Length": str(size)}, _at_most(size, body))

    @property
    def usable(self) -> bool:
        """Whether the short path can be taken at all (see the module's text)."""
        return self._usable

    async def _ranged(
        self, path: str, size: int, *, missing: bool
    ) -> tuple[Any, bytes] | Missing | None:
        """A GET of the first ``size + 1`` bytes. An answer from the network that
        says it is longer than that (a server that ignores ``Range``), or does not
        say its length, is declined unread: memory stays bounded by ``size``."""
        headers = {"Range": f"bytes=0-{size}"}
        return await self._send(
            "get_object", path, "GET", headers, None, limit=size + 1, missing=missing
        )

    async def _put(
        self, path: str, headers: dict[str, str], body: bytes | AsyncIterator[bytes]
    ) -> str | None:
        answer = await self._send("put_object", path, "PUT", headers, body)
        return str(answer[0].get("etag") or "") if isinstance(answer, tuple) else None

    async def _send(
        self,
        operation: str,
        path: str,
        method: str,
        headers: dict[str, str],
        body: bytes | AsyncIterator[bytes] | None,
        *,
        limit: int | None = None,
        missing: bool = False,
    ) -> tuple[Any, bytes] | Missing | None:
        if not self._usable:
            return None
        bucket, key, version = self._fs.split_path(path)
        if version or not key:
            return None
        from botocore.awsrequest import AWSPreparedRequest

        try:
            await self._fs.set_session()  # as s3fs does before each call
            client = await self._fs.get_s3(bucket)
            http = client._endpoint.http_session
            url = await client.generate_presigned_url(
                operation, Params={"Bucket": bucket, "Key": key}, ExpiresIn=EXPIRES
            )
            # Streamed: the session leaves the body unread until it is known to fit.
            request = AWSPreparedRequest(method, url, headers, body, True)
            name = f"before-send.{client.meta.service_model.service_id.hyphenize()}"
            handled = await _first_answer(
                client.meta.events.emit(f"{name}.{_pascal(operation)}", request=request)
            )
            response = handled if handled is not None else await http.send(request)
            if missing and handled is None and response.status_code == 404:
                return await _no_such_key(response)
            # A handler's answer is in memory already; the network's is read
            # only if it says it fits.
            fits = handled is not None or _within(response, limit)
            if response.status_code not in _SUCCESS or not fits:
                _close(response)
                return None
            data = await _body(response)
        except Exception:  # the long way raises what it means
            return None
        return response.headers, data


async def _no_such_key(response: Any) -> Missing | None:
    """:data:`MISSING` if the 404 answer's (short) error names S3's ``NoSuchKey``;
    else ``None``, to decline (a missing bucket, say: the long way raises it)."""
    if not _within(response, _ERROR_BYTES):
        _close(response)
        return None
    return MISSING if b"<Code>NoSuchKey</Code>" in await _body(response) else None


async def _body(response: Any) -> bytes:
    """The answer's whole body (awaited from aiobotocore's, as is from botocore's)."""
    content = response.content
    data = await content if inspect.isawaitable(content) else content
    return bytes(data or b"")


def _within(response: Any, limit: int | None) -> bool:
    """Whether the answer's body is known to hold at most ``limit`` bytes (any
    body, without a limit)."""
    if limit is None:
        return True
    length = response.headers.get("content-length")
    return length is not None and length.isdigit() and int(length) <= limit


def _close(response: Any) -> None:
    """Drop an answer's connection with its body unread (a body never asked for
    is not downloaded)."""
    close = getattr(getattr(response, "raw", None), "close", None)
    if callable(close):
        close()


async def _first_answer(responses: Any) -> Any:
    """The first answer a ``before-send`` handler gave (as botocore takes it), or
    ``None``; aiobotocore's emitter returns an awaitable, botocore's a list."""
    found = await responses if inspect.isawaitable(responses) else responses
    for _, answer in found:
        if answer is not None:
            return answer
    return None


async def _at_most(size: int, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``body``, failing before a byte past ``size`` is sent: on a kept-alive
    connection, bytes past the ``Content-Length`` would be read as the next request."""
    sent = 0
    async for chunk in body:
        sent += len(chunk)
        if sent > size:
            raise ValueError(f"the body is longer than the {size} bytes announced")
        yield chunk


def _pascal(operation: str) -> str:
    return "".join(part.title() for part in operation.split("_"))
