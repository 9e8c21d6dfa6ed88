"""Waiting out a busy remote: what a throttled or failed request says, and how
long a write may keep trying.

A remote answers 429 (or 503) with ``Retry-After`` (seconds or an HTTP date) or
the IETF ``RateLimit`` header (``"api";r=0;t=55``: 55 seconds to the reset) when
it wants us to slow down; the Hub also caps commits per repository and hour. A
:class:`RetryBudget` waits as long as the server asks, or backs off
exponentially when it does not say, but never past the store's
``retry_deadline`` (seconds, :data:`DEFAULT_RETRY_DEADLINE` unless the user gave
one): past it the caller gets :class:`RateLimitedError` or the last failure.

Which answer is which is :mod:`~minari_namespaces.stores.drivers.status`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from minari_namespaces.stores.drivers.status import headers_of, retry_after, status_of

__all__ = [
    "DEFAULT_RETRY_DEADLINE",
    "RateLimitedError",
    "RetryBudget",
    "RetryPolicy",
]

#: Seconds a write may keep retrying a throttled or failed request, by default.
DEFAULT_RETRY_DEADLINE: Final = 60.0
_FIRST_BACKOFF: Final = 0.5
# A server that asks for no wait at all still gets a pause, never a busy loop.
_SHORTEST_WAIT: Final = 0.1
_MAX_BACKOFF: Final = 8.0
_DAY: Final = 24 * 3600.0


class RateLimitedError(OSError):
    """The remote kept refusing (429/503) past the retry deadline.

    Attributes:
        retry_at: When the server said it would accept requests again (UTC), if it said.
    """

    def __init__(self, message: str, retry_at: datetime | None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class RetryPolicy:
    """How long one store keeps retrying: the deadline, and the clock and sleep
    it waits with (a seam for tests that count waits instead of timing them).

    Args:
        deadline: Seconds a write may keep retrying, at most (0: never retry).
        sleep: Waits the given seconds.
        clock: Monotonic seconds.

    Raises:
        ValueError: If ``deadline`` is negative or not a finite number.
    """

    def __init__(
        self,
        deadline: float = DEFAULT_RETRY_DEADLINE,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
            raise ValueError(f"retry_deadline must be a number of seconds, not {deadline!r}")
        if not math.isfinite(deadline) or deadline < 0:
            raise ValueError(f"retry_deadline must be 0 or more seconds, not {deadline!r}")
        self.deadline = float(deadline)
        self.sleep = sleep
        self.clock = clock

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RetryPolicy:
        """The policy named by the storage option ``retry_deadline`` (removed
        from ``options``), or the default one.

        Raises:
            ValueError: If the option is not a number of seconds, 0 or more.
        """
        return cls(options.pop("retry_deadline", DEFAULT_RETRY_DEADLINE))

    def budget(self, at_most: float | None = None) -> RetryBudget:
        """A fresh budget for one operation, starting now; ``at_most`` seconds if
        that is shorter (what is left to an enclosing operation)."""
        return RetryBudget(self, at_most)


class RetryBudget:
    """The waits left to one operation under a :class:`RetryPolicy`."""

    def __init__(self, policy: RetryPolicy, at_most: float | None = None) -> None:
        self._policy = policy
        seconds = policy.deadline if at_most is None else min(policy.deadline, at_most)
        self._ends = policy.clock() + seconds
        self._backoff = _FIRST_BACKOFF
        #: How many times this budget has waited.
        self.waits = 0

    def left(self) -> float:
        """Seconds left until the deadline (0 once it has passed)."""
        return max(0.0, self._ends - self._policy.clock())

    def wait(self, error: BaseException, *, throttled: bool) -> None:
        """Wait before the next attempt after ``error``, as long as the server
        asked (or an exponential backoff), or raise if that would pass the deadline.

        Raises:
            RateLimitedError: If ``throttled`` and the wait would pass the deadline.
            BaseException: ``error`` itself, if not throttled and out of time.
        """
        asked = retry_after(headers_of(error)) if throttled else None
        delay = max(_SHORTEST_WAIT, asked) if asked is not None else self._backoff
        self._backoff = min(_MAX_BACKOFF, self._backoff * 2)
        left = self._ends - self._policy.clock()
        if delay > left:
            if not throttled:
                raise error
            retry_at = datetime.now(timezone.utc) + timedelta(seconds=delay)
            # The time of day alone would be wrong for a wait of a day or more.
            when = retry_at.strftime("%Y-%m-%d %H:%M:%S UTC" if delay >= _DAY else "%H:%M:%S UTC")
            raise RateLimitedError(
                f"rate limited: the server answered {status_of(error) or 'busy'} for "
                f"{self._policy.deadline:g} s (retry_deadline); try again after {when}",
                retry_at,
            ) from error
        self.waits += 1
        self._policy.sleep(delay)
