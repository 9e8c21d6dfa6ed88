"""The only part of the Hub driver that leans on what ``huggingface_hub`` does not
publish; ``tests/unit/test_hub_client.py`` fails loudly when the client changes it.

- Which transport the client's session raises a dropped connection from: ``httpx``
  under huggingface_hub 1.x, ``httpx2`` under 2.x (the client re-exports neither).
- Whether the client sent a file in its last commit: it drops the files whose bytes
  the head already holds, and skips a commit left with none, returning the head's
  commit as if it had committed; only the operation's ``_is_committed`` tells.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["transport_errors", "was_committed"]

#: The HTTP libraries huggingface_hub's session may talk through, newest first.
_TRANSPORTS = ("httpx2", "httpx")


def transport_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of a failed connection, a timeout or a dropped answer,
    of whichever HTTP library the installed client talks through."""
    found: list[type[BaseException]] = []
    for name in _TRANSPORTS:
        try:
            found.append(importlib.import_module(name).TransportError)
        except ImportError:
            continue
    return tuple(found)


def was_committed(add: Any) -> bool:
    """Whether the client sent ``add`` (a ``CommitOperationAdd``) in the commit just
    made, rather than dropping it as unchanged.

    Raises:
        AttributeError: If the client no longer records it (a change of
            huggingface_hub that the driver must follow).
    """
    return bool(add._is_committed)
