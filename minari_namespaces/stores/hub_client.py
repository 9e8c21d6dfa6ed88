"""Every request the Hub driver makes, bounded by the store's ``retry_deadline``.

``huggingface_hub`` retries a 429, a 5xx and a failed connection by itself
(``http_backoff``: ``Retry-After`` plus a second, or 1 to 8 s of backoff, five times)
before its caller sees anything, and its shared HTTP client never times out. Its one
public seam for that is the client factory (:func:`huggingface_hub.set_client_factory`).
The client installed here acts only on requests made inside :func:`within` (a context
variable says so; any other user of ``huggingface_hub`` in the process is served as
before):

- its transport cuts each request's timeouts to the time left (at least
  :data:`SHORTEST_REQUEST`), and a transport failure (a timeout, a dropped
  connection), whether before the answer or while reading it, is raised as
  :class:`LostAnswer`, which the client's retry loop does not catch;
- its response hook raises an answer the client would retry (408, 429, 5xx) at once,
  as the client's own ``HfHubHTTPError``.

So the driver's own loops (:mod:`minari_namespaces.stores.retry`) decide every wait,
and none passes the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

import httpx2
from huggingface_hub import get_session, hf_raise_for_status, set_client_factory

__all__ = ["SHORTEST_REQUEST", "LostAnswer", "within"]

#: The least time a request is given to answer, even past the deadline: the first
#: attempt of a call is always made.
SHORTEST_REQUEST: Final = 1.0
#: The answers ``huggingface_hub`` would retry by itself.
_RETRIED_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

# When the current call of the driver must end (``time.monotonic``); None outside one.
_DEADLINE: ContextVar[float | None] = ContextVar("minari_namespaces_hub_deadline", default=None)
_INSTALL: Final = threading.Lock()


class LostAnswer(httpx2.TransportError):
    """A request inside :func:`within` failed in transport (it timed out, or the
    connection failed or dropped): its answer, if any, is lost. A ``TransportError``,
    but none of the kinds ``huggingface_hub`` retries by itself."""


@contextmanager
def within(ends: float) -> Iterator[None]:
    """Bound the requests made inside by ``ends`` (``time.monotonic`` seconds; an
    enclosing bound that ends earlier stays)."""
    _install()
    current = _DEADLINE.get()
    token = _DEADLINE.set(ends if current is None else min(current, ends))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _timeout() -> float | None:
    ends = _DEADLINE.get()
    if ends is None:
        return None
    return max(SHORTEST_REQUEST, ends - time.monotonic())


class _GuardedStream(httpx2.SyncByteStream):
    """An answer's body whose transport failures are :class:`LostAnswer`."""

    def __init__(self, inner: httpx2.SyncByteStream) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx2.TransportError as error:
            raise LostAnswer(f"{type(error).__name__}: {error}") from error

    def close(self) -> None:
        self._inner.close()


class _BoundedTransport(httpx2.BaseTransport):
    """The default transport, with the bound applied to the requests inside
    :func:`within`."""

    def __init__(self) -> None:
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        seconds = _timeout()
        if seconds is None:
            return self._inner.handle_request(request)
        request.extensions = {
            **request.extensions,
            "timeout": dict.fromkeys(("connect", "read", "write", "pool"), seconds),
        }
        try:
            answer = self._inner.handle_request(request)
        except httpx2.TransportError as error:
            raise LostAnswer(f"{type(error).__name__}: {error}") from error
        assert isinstance(answer.stream, httpx2.SyncByteStream)
        answer.stream = _GuardedStream(answer.stream)
        return answer

    def close(self) -> None:
        self._inner.close()


def _raise_retried_answer(answer: httpx2.Response) -> None:
    """After an answer inside :func:`within`: one the client would retry by itself
    is its error now, for the driver to wait out or report."""
    if _DEADLINE.get() is not None and answer.status_code in _RETRIED_STATUSES:
        answer.read()
        hf_raise_for_status(answer)


def _install() -> None:
    """Make the client ``huggingface_hub`` shares one of ours, unless it is: the
    request hooks of its current client (its request ids and debug log) are kept."""
    with _INSTALL:
        session = get_session()
        if _raise_retried_answer in session.event_hooks["response"]:
            return
        request_hooks = list(session.event_hooks["request"])

        def bounded_client() -> httpx2.Client:
            return httpx2.Client(
                transport=_BoundedTransport(),
                event_hooks={"request": request_hooks, "response": [_raise_retried_answer]},
                follow_redirects=True,
                timeout=None,
            )

        set_client_factory(bounded_client)
