"""Retention: nothing personal outlives its site's retention, even after it is shortened
(both backends)."""

from __future__ import annotations

from datetime import timedelta

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
    assert (count(migrated_store, "events"), count(migrated_store, "sessions")) == (3, 3)
    job = RetentionJob(migrated_store, settings, clock=lambda: NOW)
    tables = job.tables()
    assert {"events", "signals", "sessions"} <= set(tables)
    assert not set(KEPT_TABLES) & set(tables)

    assert job.run_once().rows_deleted == {}  # everything is within 180 days
    shortened = settings.model_copy(
        update={"sites": [settings.sites[0].model_copy(update={"retention_days": 30})]}
    )
    run = RetentionJob(migrated_store, shortened, clock=lambda: NOW).run_once()
    assert run.rows_deleted == {"events": 2, "sessions": 2}
    assert migrated_store.rows("SELECT ts FROM events") == [(days_ago(5),)]

    later = NOW + timedelta(days=200)  # past every row's own expires_at
    assert RetentionJob(migrated_store, settings, clock=lambda: later).run_once().rows_deleted == {
        "events": 1,
        "sessions": 1,
    }
    assert (count(migrated_store, "events"), count(migrated_store, "sessions")) == (0, 0)
