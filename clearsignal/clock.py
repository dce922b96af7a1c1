"""The clock every ClearSignal component defaults to (tests inject their own), and the
one way a moment is written on the wire.

Every API, export and log entry writes times as ISO 8601 in UTC with milliseconds and a
``Z``: ``2026-12-06T03:55:30.123Z`` (``wire_time``).
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["EPOCH", "utc_now", "wire_time"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def wire_time(moment: datetime) -> str:
    """``moment`` as every answer writes it: ISO 8601, UTC, milliseconds, ``Z``.

    A naive moment (as some store clients return them) is taken to be UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
