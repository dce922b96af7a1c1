"""Times in the conditions of deletes (``Store.delete_where``, ``Store.alter``).

A ``DELETE`` is stored as a mutation whose condition ClickHouse serialises and parses
again, and a bound ``DateTime64`` parameter does not survive that (it comes back as
seconds since the epoch, which DateTime64 cannot parse). Conditions therefore bind times
as text (``utc_text``) and convert them in SQL: ``toDateTime64({since:String}, 3, 'UTC')``.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc_text"]


def utc_text(moment: datetime) -> str:
    """``moment`` as the text ``toDateTime64(..., 3, 'UTC')`` reads back exactly."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
