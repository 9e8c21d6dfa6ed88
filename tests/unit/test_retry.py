"""Waiting out a busy remote: what the server asks, and the deadline the user sets.

Time is a seam here: the budget is given a clock and a sleep that only record,
so these tests count and compare waits, never measure them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from minari_namespaces.stores.drivers.retry import (
    DEFAULT_RETRY_DEADLINE,
    RateLimitedError,
    RetryBudget,
    RetryPolicy,
)
from minari_namespaces.stores.drivers.status import LONGEST_ASKED_WAIT, retry_after, status_of

NOW = datetime(2026, 12, 6, 8, 0, 0, tzinfo=timezone.utc)


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


class RefusedError(Exception):
    """An HTTP client's error carrying the answer, as httpx's and the Hub's do."""

    def __init__(self, status: int, **headers: str) -> None:
        super().__init__(f"answered {status}")
        self.response = Answer(status, {k.replace("_", "-"): v for k, v in headers.items()})


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def policy(deadline: float) -> tuple[RetryPolicy, FakeTime]:
    time = FakeTime()
    return RetryPolicy(deadline, sleep=time.sleep, clock=time.clock), time


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"retry-after": " 7 "}, 7.0),
        ({"Retry-After": format_datetime(NOW + timedelta(seconds=30), usegmt=True)}, 30.0),
        ({"Retry-After": format_datetime(NOW - timedelta(seconds=30), usegmt=True)}, 0.0),
        ({"RateLimit": '"api";r=0;t=55'}, 55.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
    ids=["seconds", "spaces", "http-date", "date-past", "ratelimit", "garbage", "none"],
)
def test_the_server_says_how_long_to_wait_in_seconds_or_as_a_date(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after(headers, now=NOW) == seconds


def test_the_status_is_found_through_the_chain_of_causes() -> None:
    outer = OSError("wrapped")
    outer.__cause__ = RefusedError(503)
    assert status_of(outer) == 503
    assert status_of(ValueError("no answer")) is None


def test_a_throttled_call_waits_as_long_as_the_server_asks() -> None:
    retry, time = policy(60)
    budget = retry.budget()
    for _ in range(3):
        budget.wait(RefusedError(429, Retry_After="1"), throttled=True)
    assert time.slept == [1.0, 1.0, 1.0]
    assert budget.waits == 3


def test_without_a_time_the_waits_back_off_exponentially() -> None:
    retry, time = policy(60)
    budget = retry.budget()
    for _ in range(5):
        budget.wait(RefusedError(500), throttled=False)
    assert time.slept == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_throttling_past_the_deadline_says_it_was_rate_limited_and_when_to_retry() -> None:
    retry, time = policy(10)
    budget = retry.budget()
    refusal = RefusedError(429, Retry_After="120")
    with pytest.raises(RateLimitedError, match=r"rate limited.*429.*try again after") as caught:
        budget.wait(refusal, throttled=True)
    assert caught.value.__cause__ is refusal
    assert caught.value.retry_at is not None
    assert time.slept == []


def test_a_failure_past_the_deadline_is_raised_as_it_is() -> None:
    retry, _ = policy(0)
    failure = RefusedError(500)
    with pytest.raises(RefusedError) as caught:
        retry.budget().wait(failure, throttled=False)
    assert caught.value is failure


def test_the_deadline_comes_from_the_storage_options_and_is_removed_from_them() -> None:
    options: dict[str, object] = {"retry_deadline": 5, "key": "k"}
    assert RetryPolicy.from_options(options).deadline == 5.0
    assert options == {"key": "k"}
    assert RetryPolicy.from_options({}).deadline == DEFAULT_RETRY_DEADLINE


@pytest.mark.parametrize("deadline", [-1, float("inf"), float("nan"), "60", True, None])
def test_a_deadline_that_is_not_seconds_is_refused(deadline: object) -> None:
    with pytest.raises(ValueError, match="retry_deadline"):
        RetryPolicy.from_options({"retry_deadline": deadline})


def exhaust(budget: RetryBudget, refusal: RefusedError) -> None:
    """Wait after ``refusal`` again and again, until the budget refuses to."""
    while True:
        budget.wait(refusal, throttled=True)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "\u00b2"}, None),
        ({"Retry-After": "\u0663"}, None),
        ({"Retry-After": "99999999999999"}, LONGEST_ASKED_WAIT),
        ({"Retry-After": "9" * 400}, LONGEST_ASKED_WAIT),
        ({"RateLimit": '"api";r=0;t=99999999999999'}, LONGEST_ASKED_WAIT),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, LONGEST_ASKED_WAIT),
    ],
    ids=["superscript-two", "arabic-three", "huge", "400-digits", "ratelimit-huge", "year-9999"],
)
def test_a_malformed_or_huge_wait_reads_as_throttling_with_a_bounded_wait(
    headers: dict[str, str], seconds: float | None
) -> None:
    """Issue 25, medium 9: ``Retry-After: ²`` (``isdigit()`` is true, ``float()``
    fails) and a huge ``Retry-After`` or ``RateLimit`` ``t=`` (``OverflowError``)
    surfaced as "could not convert string to float" instead of rate limiting."""
    assert retry_after(headers, now=NOW) == seconds
    retry, time = policy(10)
    # Read as throttling: waits (backing off where the header said nothing usable)
    # until the deadline, then rate limited, never a conversion error.
    with pytest.raises(RateLimitedError, match="rate limited") as caught:
        exhaust(retry.budget(), RefusedError(429, **headers))
    assert caught.value.retry_at is not None
    assert sum(time.slept) <= 10


def test_a_wait_of_a_day_or_more_names_the_date_not_only_the_time_of_day() -> None:
    """Issue 25, low: past a day, "try again after 08:00:00 UTC" named the wrong day."""
    retry, _ = policy(10)
    for seconds, shown in (
        ("100000", r"after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"),
        ("120", r"after \d\d:\d\d:\d\d UTC"),
    ):
        with pytest.raises(RateLimitedError, match=shown):
            retry.budget().wait(RefusedError(429, Retry_After=seconds), throttled=True)
