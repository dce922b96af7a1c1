"""Retention: nothing personal outlives its site's retention, even after it is shortened
(both backends)."""

from __future__ import annotations

from datetime import timedelta

from aggregator.jobs.analytics import AnalyticsJob
from aggregator.jobs.retention import RetentionJob
from aggregator.jobs.sessions import SessionsJob
from aggregator.store.client import Store
from clearsignal.settings import Settings
from consent.erasure import KEPT_TABLES
from tests.support.event_history import NOW, Visitor, days_ago, save


def count(store: Store, table: str) -> int:
    return int(store.scalar(f"SELECT count() FROM {table}"))


def test_expired_rows_and_rows_older_than_a_shortened_retention_are_deleted(
    migrated_store: Store, settings: Settings
) -> None:
    visitor = Visitor("e" * 32)
    visitor.add(days_ago(100))
    visitor.add(days_ago(40))
    visitor.add(days_ago(5))
    save(migrated_store, visitor)
    SessionsJob(migrated_store, settings, clock=lambda: NOW).run_once()
    AnalyticsJob(migrated_store, settings, clock=lambda: NOW).run_once()
    assert (count(migrated_store, "events"), count(migrated_store, "sessions")) == (3, 3)
    bitmaps = migrated_store.rows("SELECT day < {d:Date}, count() FROM row_visitors GROUP BY 1",
                                  {"d": days_ago(30).date()})  # fmt: skip
    old_bitmaps = dict(bitmaps)[True]
    job = RetentionJob(migrated_store, settings, clock=lambda: NOW)
    tables = job.tables()
    assert {"events", "signals", "sessions"} <= set(tables)
    assert not set(KEPT_TABLES) & set(tables)

    assert job.run_once().rows_deleted == {}  # everything is within 180 days
    shortened = settings.model_copy(
        update={"sites": [settings.sites[0].model_copy(update={"retention_days": 30})]}
    )
    run = RetentionJob(migrated_store, shortened, clock=lambda: NOW).run_once()
    # A number's rows of earlier last days go too, unless a merge replaced them already.
    run.rows_deleted.pop("visitor_numbers", None)
    assert run.rows_deleted == {
        "events": 2, "sessions": 2, "visitor_days": 2, "row_visitors": old_bitmaps,
    }  # fmt: skip
    assert count(migrated_store, "visitor_numbers") == 1  # the visitor's last day is kept
    assert migrated_store.rows("SELECT ts FROM events") == [(days_ago(5),)]

    later = NOW + timedelta(days=200)  # past every row's own expires_at
    assert RetentionJob(migrated_store, settings, clock=lambda: later).run_once().rows_deleted == {
        "events": 1,
        "sessions": 1,
        "visitor_days": 1,
        "row_visitors": dict(bitmaps)[False],
        "visitor_numbers": 1,
    }
    for table in ("events", "sessions", "visitor_days", "row_visitors", "visitor_numbers"):
        assert count(migrated_store, table) == 0, table
