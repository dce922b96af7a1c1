"""The clock every ClearSignal component defaults to (tests inject their own)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["EPOCH", "utc_now"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
