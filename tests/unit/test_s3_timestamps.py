"""S3 listings parse ``LastModified`` with :func:`quick_timestamp`: the value
botocore's own parser gives, without ``dateutil``'s cost, on the session the S3
driver makes (never on one the caller passed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minari_namespaces import open_repository
from minari_namespaces.stores.drivers.s3 import quick_timestamp

botocore_parsers = pytest.importorskip("botocore.parsers")
OPTIONS: dict[str, Any] = {
    "key": "k",
    "secret": "s",
    "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"},
    "skip_instance_cache": True,
}


def same_as_botocore(value: Any) -> None:
    ours, theirs = quick_timestamp(value), botocore_parsers.DEFAULT_TIMESTAMP_PARSER(value)
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset()
    assert str(ours) == str(theirs)


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-06T23:11:14.000Z",
        "2026-12-06T23:11:14Z",
        "2026-12-06T23:11:14.123456Z",
        "1999-01-01T00:00:00.999Z",
        # The forms it leaves to botocore.
        "2026-12-06T23:11:14+01:00",
        "2026-12-06T23:11:14.5Z",
        "2026-12-06T23:11:14.12345Z",
        "20261206T231114Z",
        "Sun, 06 Dec 2026 23:11:14 GMT",
        "1765062674",
        1765062674,
        1765062674.5,
    ],
)
def test_each_form_parses_as_botocore_parses_it(value: Any) -> None:
    same_as_botocore(value)


@given(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1)),
    st.sampled_from([0, 3, 6]),
)
def test_every_instant_in_s3s_listing_form_parses_as_botocore_parses_it(
    moment: datetime, digits: int
) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    same_as_botocore(f"{text}Z")


@pytest.mark.parametrize(
    "value", ["2026-13-06T23:11:14.000Z", "2026-12-06Tnoon Z", "2026-12-06T23:11:14+01:00Z"]
)
def test_a_malformed_timestamp_fails_with_botocores_own_error(value: str) -> None:
    with pytest.raises(ValueError, match="^Invalid timestamp") as theirs:
        botocore_parsers.DEFAULT_TIMESTAMP_PARSER(value)
    with pytest.raises(ValueError, match="^Invalid timestamp") as ours:
        quick_timestamp(value)
    assert str(ours.value) == str(theirs.value)


def parser_of(fs: Any) -> Any:
    factory = fs.session.get_component("response_parser_factory")
    return factory.create_parser("rest-xml")


def test_the_drivers_own_session_parses_listings_with_it() -> None:
    store = open_repository("s3://bucket/tree", **OPTIONS)
    fs = store.fs  # type: ignore[attr-defined]
    assert parser_of(fs)._timestamp_parser is quick_timestamp
    # Made, not yet connected: no request was sent.
    assert fs._s3 is None


def test_a_session_the_caller_passed_is_left_as_it_is() -> None:
    from aiobotocore.session import AioSession

    session = AioSession()
    store = open_repository("s3://bucket/tree", session=session, **OPTIONS)
    assert store.fs.session is session  # type: ignore[attr-defined]
    assert parser_of(store.fs)._timestamp_parser is not quick_timestamp  # type: ignore[attr-defined]


def test_the_instant_is_kept_across_time_zones() -> None:
    parsed = quick_timestamp("2026-12-06T23:11:14.250Z")
    assert parsed == datetime(2026, 12, 6, 23, 11, 14, 250_000, tzinfo=timezone.utc)
    assert parsed.utcoffset() == timedelta(0)
