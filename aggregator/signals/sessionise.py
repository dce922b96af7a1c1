"""Sessions in SQL: a visitor's events split at 30 minutes of inactivity.

``sessionised_events`` wraps a selection of events (all columns of ``events``) with a
``session`` number per visitor: the running count of gaps longer than
``SESSION_GAP_SECONDS``, by window functions inside ClickHouse. The signals job and the
sessions job both read events this way, so they agree on what a session is.
"""

from __future__ import annotations

__all__ = ["SESSION_GAP_SECONDS", "sessionised_events"]

SESSION_GAP_SECONDS = 30 * 60


def sessionised_events(source: str, extra_columns: str = "") -> str:
    """``SELECT <events columns>, <extra_columns>, session FROM (source)``.

    ``source`` is a ``SELECT`` of rows of ``events``; ``extra_columns`` are more
    expressions over them (page-kind flags, constants) placed before ``session``.
    """
    extra = f"{extra_columns},\n           " if extra_columns else ""
    return f"""
    SELECT *, {extra}sum(gap) OVER (PARTITION BY identity, visitor_key ORDER BY ts, event_id
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session
    FROM (
        SELECT *,
               dateDiff('second',
                        lagInFrame(ts, 1, ts) OVER (PARTITION BY identity, visitor_key
                                                    ORDER BY ts, event_id
                                                    ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
                        ts) > {SESSION_GAP_SECONDS} AS gap
        FROM ({source})
    )"""
