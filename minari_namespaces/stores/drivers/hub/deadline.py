"""Every request of the Hub driver, bounded by the store's ``retry_deadline``.

``huggingface_hub`` retries a 429, a 5xx and a failed connection by itself
(``http_backoff``: ``Retry-After`` plus a second, or 1 to 8 s of backoff, five times)
before its caller sees anything, and its shared HTTP client never times out. Its
public seam for both is the client factory (``huggingface_hub.set_client_factory``).
The client installed here acts only on requests made inside :func:`within` (a
context variable says so: any other user of ``huggingface_hub`` in the process is
served as before):

- its transport cuts each request's timeouts to the time left (at least
  :data:`SHORTEST_REQUEST`), reads the answer whole (unless inside
  :func:`streaming`: a dataset file's body is read by its caller, each read
  bounded by the same timeout), and raises a failure to send
  the request or to read its answer (a timeout, a refused or dropped connection) as
  :class:`~minari_namespaces.stores.drivers.hub.client.LostAnswerError`, which the
  client's retry loop does not catch;
- its response hook raises an answer the client would retry by itself (408, 429,
  5xx) at once, as the client's own ``HfHubHTTPError``.

So the driver's own loops (:class:`~minari_namespaces.stores.drivers.retry.RetryBudget`)
decide every wait, and none passes the deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from minari_namespaces.stores.drivers.hub.client import LostAnswerError, http_library

__all__ = ["SHORTEST_REQUEST", "install", "streaming", "time_left", "within"]

#: The least time a request is given, even at the deadline: each call's first
#: attempt is always made.
SHORTEST_REQUEST: Final = 1.0
#: The answers ``huggingface_hub`` would retry by itself.
_RETRIED_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})

# When the driver's current call must end (``time.monotonic``); None outside one.
_DEADLINE: ContextVar[float | None] = ContextVar("minari_namespaces_hub_deadline", default=None)
# Whether the answers of the requests made now are streamed to their caller.
_STREAMED: ContextVar[bool] = ContextVar("minari_namespaces_hub_streamed", default=False)
_INSTALLING: Final = threading.Lock()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Bound the requests made inside by ``seconds`` from now (an enclosing bound
    that ends earlier stays)."""
    install()
    ends = time.monotonic() + seconds
    current = _DEADLINE.get()
    token = _DEADLINE.set(ends if current is None else min(current, ends))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextmanager
def streaming() -> Iterator[None]:
    """Leave the bodies of the answers to the requests made inside for their caller
    to read (a dataset file may be larger than memory)."""
    token = _STREAMED.set(True)
    try:
        yield
    finally:
        _STREAMED.reset(token)


def time_left() -> float | None:
    """Seconds left to the enclosing :func:`within` (0 once past); ``None`` outside
    one. A call inside another gets no more time than the outer one has left."""
    ends = _DEADLINE.get()
    return None if ends is None else max(0.0, ends - time.monotonic())


class _BoundedTransport:
    """The library's default transport, with the bound applied to the requests
    made inside :func:`within`."""

    def __init__(self, http: Any) -> None:
        self._inner = http.HTTPTransport()
        self._failures: tuple[type[BaseException], ...] = (http.TransportError,)

    def handle_request(self, request: Any) -> Any:
        ends = _DEADLINE.get()
        if ends is None:
            return self._inner.handle_request(request)
        seconds = max(SHORTEST_REQUEST, ends - time.monotonic())
        request.extensions = {
            **request.extensions,
            "timeout": dict.fromkeys(("connect", "read", "write", "pool"), seconds),
        }
        try:
            answer = self._inner.handle_request(request)
            if _STREAMED.get():
                return answer
            try:
                answer.read()  # within the bound too; the answers are small
            except BaseException:
                answer.close()
                raise
        except self._failures as error:
            raise LostAnswerError(f"{type(error).__name__}: {error}") from error
        return answer

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _BoundedTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _raise_retried_answer(answer: Any) -> None:
    """An answer inside :func:`within` that the client would retry by itself is
    its error at once, for the driver to wait out or report."""
    if _DEADLINE.get() is not None and answer.status_code in _RETRIED_STATUSES:
        from huggingface_hub import hf_raise_for_status

        answer.read()
        hf_raise_for_status(answer)


def install() -> None:
    """Make the client ``huggingface_hub`` shares one of ours, unless it is. The
    request hooks of its current client (request ids, the debug log) are kept."""
    from huggingface_hub import get_session, set_client_factory

    if _raise_retried_answer in get_session().event_hooks["response"]:
        return
    with _INSTALLING:
        session = get_session()
        if _raise_retried_answer in session.event_hooks["response"]:
            return
        request_hooks = list(session.event_hooks["request"])
        http = http_library()

        def bounded_client() -> Any:
            return http.Client(
                transport=_BoundedTransport(http),
                event_hooks={"request": request_hooks, "response": [_raise_retried_answer]},
                follow_redirects=True,
                timeout=None,
            )

        set_client_factory(bounded_client)
