"""The one way a moment is written on the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from clearsignal.clock import EPOCH, utc_now, wire_time


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 12, 6, 3, 55, 30, 123456, tzinfo=UTC), "2026-12-06T03:55:30.123Z"),
        (datetime(2026, 12, 6, 3, 55, 30, tzinfo=UTC), "2026-12-06T03:55:30.000Z"),
        # A naive moment, as some store clients return them, is UTC.
        (datetime(2026, 12, 6, 3, 55, 30, 999999), "2026-12-06T03:55:30.999Z"),
        # Another zone is converted, never written with its offset.
        (
            datetime(2026, 12, 6, 4, 55, 30, tzinfo=timezone(timedelta(hours=1))),
            "2026-12-06T03:55:30.000Z",
        ),
        (EPOCH, "1970-01-01T00:00:00.000Z"),
    ],
)
def test_a_moment_is_iso_8601_in_utc_with_milliseconds_and_a_z(
    moment: datetime, written: str
) -> None:
    assert wire_time(moment) == written


def test_the_clock_is_aware_and_in_utc() -> None:
    now = utc_now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert wire_time(now).endswith("Z")
