"""The only part of the Hub driver that leans on what ``huggingface_hub`` does not
publish; ``tests/unit/test_hub_client.py`` fails loudly when the client changes it.

- Which HTTP library the client's session talks through (and raises a dropped
  connection from): the one
  it publishes as ``huggingface_hub.utils.httpx`` (since 1.31; ``httpx2`` under 2.x),
  or, before 1.31, ``httpx``, which it then depends on directly.
- Whether the client sent a file in its last commit: it drops the files whose bytes
  the head already holds, and skips a commit left with none, returning the head's
  commit as if it had committed; only the operation's ``_is_committed`` tells.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["LostAnswerError", "http_library", "transport_errors", "was_committed"]


class LostAnswerError(ConnectionError):
    """A request bounded by the store's deadline could not be sent, or its answer
    not read in time (a timeout, a refused or dropped connection): a write may have
    landed. Raised past the client's own retries
    (:mod:`~minari_namespaces.stores.drivers.hub.deadline`)."""


def http_library() -> Any:
    """The HTTP library the installed client talks through."""
    utils = importlib.import_module("huggingface_hub.utils")
    try:
        return utils.httpx
    except AttributeError:
        return importlib.import_module("httpx")


def transport_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of a failed connection, a timeout or a dropped answer:
    the HTTP library's, and ours for a request bounded by the deadline."""
    return (http_library().TransportError, LostAnswerError)


def was_committed(add: Any) -> bool:
    """Whether the client sent ``add`` (a ``CommitOperationAdd``) in the commit just
    made, rather than dropping it as unchanged.

    Raises:
        AttributeError: If the client no longer records it (a change of
            huggingface_hub that the driver must follow).
    """
    return bool(add._is_committed)
