"""The only part of the Hub driver that leans on what ``huggingface_hub`` does not
publish; ``tests/unit/test_hub_client.py`` fails loudly when the client changes it.

- Which HTTP library the client's session raises a dropped connection from: the one
  it publishes as ``huggingface_hub.utils.httpx`` (since 1.31; ``httpx2`` under 2.x),
  or, before 1.31, ``httpx``, which it then depends on directly.
- Whether the client sent a file in its last commit: it drops the files whose bytes
  the head already holds, and skips a commit left with none, returning the head's
  commit as if it had committed; only the operation's ``_is_committed`` tells.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["transport_errors", "was_committed"]


def transport_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of a failed connection, a timeout or a dropped answer,
    of the HTTP library the installed client talks through."""
    utils = importlib.import_module("huggingface_hub.utils")
    try:
        http = utils.httpx
    except AttributeError:
        http = importlib.import_module("httpx")
    return (http.TransportError,)


def was_committed(add: Any) -> bool:
    """Whether the client sent ``add`` (a ``CommitOperationAdd``) in the commit just
    made, rather than dropping it as unchanged.

    Raises:
        AttributeError: If the client no longer records it (a change of
            huggingface_hub that the driver must follow).
    """
    return bool(add._is_committed)
