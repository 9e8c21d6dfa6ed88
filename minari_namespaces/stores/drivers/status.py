"""HTTP statuses for every driver: which answer means what (412 precondition failed,
416 range not satisfiable, 429 and 503 throttling), how to read the status from each
client's exception (botocore, the Azure and Google SDKs, huggingface_hub), and how
long a throttled answer asks us to wait. Decisions use status codes and exception
types only, never message text.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Final

__all__ = [
    "LONGEST_ASKED_WAIT",
    "NOT_FOUND",
    "PRECONDITION_FAILED",
    "RANGE_NOT_SATISFIABLE",
    "SERVER_ERROR",
    "THROTTLED",
    "TOO_MANY_REQUESTS",
    "headers_of",
    "is_precondition_failure",
    "is_throttled",
    "retry_after",
    "status_of",
]

NOT_FOUND: Final = 404
#: A conditional write whose condition (an ETag, a generation, a parent commit) failed.
PRECONDITION_FAILED: Final = 412
#: A ranged read of an empty object: it is there, and empty.
RANGE_NOT_SATISFIABLE: Final = 416
TOO_MANY_REQUESTS: Final = 429
#: The first status of a server's own failure (5xx).
SERVER_ERROR: Final = 500
#: HTTP statuses that ask the client to come back later.
THROTTLED: Final = frozenset({TOO_MANY_REQUESTS, 503})
# ASCII digits only: ``str.isdigit`` and ``\d`` take ``²`` and other scripts' digits.
_SECONDS: Final = re.compile(r"[0-9]+")
_RATELIMIT: Final = re.compile(r";\s*t\s*=\s*([0-9]+)")
#: The longest wait a server's answer is read as (a larger or later one is this):
#: past the deadline either way, and still a date the message can name.
LONGEST_ASKED_WAIT: Final = 30 * 24 * 3600.0


def status_of(error: BaseException) -> int | None:
    """The HTTP status of ``error`` or of an exception it was raised from, as
    the clients report it (``response.status_code``, ``status_code``, ``status``,
    ``code``, botocore's ``ResponseMetadata``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        for holder, name in (
            (response, "status_code"),
            (current, "status_code"),
            (current, "status"),
            (current, "code"),
        ):
            value = getattr(holder, name, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
        if isinstance(response, dict):
            value = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if isinstance(value, int):
                return value
        current = current.__cause__ or current.__context__
    return None


def headers_of(error: BaseException) -> Mapping[str, str]:
    """The response headers carried by ``error``, if any."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) else {}


def is_precondition_failure(error: BaseException) -> bool:
    """Whether ``error`` or an exception it was raised from is botocore's HTTP 412,
    judged by the status code or the error code (SeaweedFS sends its 412 without a
    condition field), never by message text."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = response.get("Error", {}).get("Code")
            if status == PRECONDITION_FAILED or code in ("PreconditionFailed", "412"):
                return True
        current = current.__cause__ or current.__context__
    return False


def is_throttled(error: BaseException) -> bool:
    """A 429, or a 503 that says when to come back: the server asks us to slow down
    (a 503 without a time is a failure, not a request to wait)."""
    status = status_of(error)
    if status == TOO_MANY_REQUESTS:
        return True
    return status in THROTTLED and retry_after(headers_of(error)) is not None


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After`` (seconds or an HTTP
    date) or the ``t`` of a ``RateLimit`` header; ``None`` if it says nothing."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    value = lowered.get("retry-after", "").strip()
    if _SECONDS.fullmatch(value):
        return _bounded(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
            return min(LONGEST_ASKED_WAIT, max(0.0, seconds))
    match = _RATELIMIT.search(lowered.get("ratelimit", ""))
    return _bounded(match.group(1)) if match else None


def _bounded(digits: str) -> float:
    """Seconds spelled by ``digits``, at most :data:`LONGEST_ASKED_WAIT` (however
    many digits: no float overflows and no date goes past the calendar)."""
    if len(digits.lstrip("0")) > len(str(int(LONGEST_ASKED_WAIT))):
        return LONGEST_ASKED_WAIT
    return min(LONGEST_ASKED_WAIT, float(digits))
