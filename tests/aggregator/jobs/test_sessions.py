"""Sessions computed in ClickHouse: 30 minutes of inactivity, late events, reruns (both
backends)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.jobs.sessions import SessionsJob
from aggregator.store.client import Store
from clearsignal.settings import Settings
from tests.aggregator.store.test_compaction import compactions, stored_and_live
from tests.support.event_history import NOW, Visitor, anonymous_visitor, days_ago, save

SESSION_COLUMNS = (
    "visitor_key, session_start, session_end, events, pageviews, entry_path, exit_path, steps"
)


@pytest.fixture
def job(migrated_store: Store, settings: Settings) -> SessionsJob:
    return SessionsJob(migrated_store, settings, clock=lambda: NOW)


def sessions(store: Store) -> list[tuple[Any, ...]]:
    return store.rows(f"SELECT {SESSION_COLUMNS} FROM sessions FINAL ORDER BY ALL")


def visit(visitor: Visitor, start: datetime, minutes: list[int], **extra: Any) -> None:
    for n, minute in enumerate(minutes):
        visitor.add(start + timedelta(minutes=minute), path=f"/demo/p{n}", **extra)


def test_thirty_minutes_of_inactivity_ends_a_session(
    migrated_store: Store, job: SessionsJob
) -> None:
    visitor = Visitor("a" * 32)
    visit(visitor, days_ago(2), [0, 10, 39])  # 29 minutes apart: one session
    visit(visitor, days_ago(2), [70, 71])  # 31 minutes later: a second one
    visitor.add(days_ago(2, 72), "step", name="cart")
    visitor.add(days_ago(2, 73), "step", name="shipping")
    save(migrated_store, visitor)
    run = job.run_once()
    assert (run.visitors, run.sessions) == (1, 2)
    first, second = sessions(migrated_store)
    assert (first[3], first[4], first[5], first[6], first[7]) == (3, 3, "/demo/p0", "/demo/p2", [])
    assert first[2] - first[1] == timedelta(minutes=39)
    assert (second[3], second[4], second[7]) == (4, 2, ["cart", "shipping"])


def test_anonymous_visitors_have_sessions_too(migrated_store: Store, job: SessionsJob) -> None:
    visitor = anonymous_visitor()
    visit(visitor, days_ago(1), [0, 5])
    save(migrated_store, visitor)
    job.run_once()
    assert [row[0] for row in sessions(migrated_store)] == [visitor.key]


def test_a_late_event_joining_two_sessions_leaves_one_row(
    migrated_store: Store, settings: Settings
) -> None:
    visitor = Visitor("b" * 32)
    visit(visitor, days_ago(3), [0, 5, 45, 50], ingested_at=days_ago(3))
    save(migrated_store, visitor)
    SessionsJob(migrated_store, settings, clock=lambda: days_ago(2)).run_once()
    assert len(sessions(migrated_store)) == 2
    late = Visitor(visitor.key)
    late.add(days_ago(3, 25), path="/demo/late", ingested_at=days_ago(1))  # bridges the gap
    save(migrated_store, late)
    SessionsJob(migrated_store, settings, clock=lambda: NOW).run_once()
    [joined] = sessions(migrated_store)
    assert joined[3] == 5
    assert (
        migrated_store.scalar(
            "SELECT count() FROM sessions WHERE visitor_key = {k:String}", {"k": visitor.key}
        )
        == 1
    )


def test_an_event_stored_after_the_watermark_is_read_however_long_ago_it_was_taken(
    migrated_store: Store, settings: Settings
) -> None:
    visitor, other = Visitor("d" * 32), Visitor("e" * 32)
    visit(visitor, days_ago(3), [0, 5, 45, 50], ingested_at=days_ago(2.5))
    other.add(days_ago(2.4))  # taken hours after the visitor's events
    save(migrated_store, visitor, other)
    SessionsJob(migrated_store, settings, clock=lambda: days_ago(2)).run_once()
    assert len(sessions(migrated_store)) == 3
    # Taken by a collector as it happened, days before the first run; stored after it (a
    # spool replayed after an outage).
    late = Visitor(visitor.key)
    late.add(days_ago(3, 25), path="/demo/late", ingested_at=days_ago(3, 25))  # stored now
    save(migrated_store, late)
    SessionsJob(migrated_store, settings, clock=lambda: NOW).run_once()
    assert [row[3] for row in sessions(migrated_store) if row[0] == visitor.key] == [5]


def test_running_twice_or_overlapping_writes_the_same_rows(
    migrated_store: Store, settings: Settings
) -> None:
    visitors = [Visitor(f"{n:032x}") for n in range(30)]
    for n, visitor in enumerate(visitors):
        visit(visitor, days_ago(n % 5 + 1), [0, 3, 40 + n, 41 + n])
    save(migrated_store, *visitors)
    SessionsJob(migrated_store, settings, clock=lambda: NOW).run_once()
    once = sessions(migrated_store)
    SessionsJob(migrated_store, settings, clock=lambda: NOW).run_once()
    assert sessions(migrated_store) == once
    runs = [SessionsJob(migrated_store, settings, clock=lambda: NOW) for _ in range(2)]
    threads = [
        threading.Thread(target=run.run_once, kwargs={"since": days_ago(30)}) for run in runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sessions(migrated_store) == once
    assert len(once) == 60  # every visitor came back after more than 30 minutes


def test_a_quiet_site_is_not_read_again_until_something_comes(
    migrated_store: Store, job: SessionsJob
) -> None:
    visitor = Visitor("c" * 32)
    visit(visitor, days_ago(0.1), [0, 5])  # ingested as they happened, minutes ago
    save(migrated_store, visitor)
    assert job.run_once().visitors == 1
    # With nothing come since, not again at every run ...
    assert job.run_once().visitors == 0
    assert job.run_once().visitors == 0
    # ... until a row comes: here one stamped a minute before (an insert under way as the
    # last run began), which the grace takes in.
    late = Visitor(visitor.key)
    late.add(
        days_ago(0.1, 3), path="/demo/late", stored_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    save(migrated_store, late)
    assert job.run_once().visitors == 1
    assert [row[3] for row in sessions(migrated_store)] == [3]


def test_a_backfill_leaves_no_replaced_row_in_the_partitions(
    migrated_store: Store, job: SessionsJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recomputing every visitor deletes every row: the partitions are rewritten without
    them (``aggregator.store.compaction``), not read twice until a merge."""
    visitors = [Visitor(f"{n:032x}") for n in range(10)]
    for n, visitor in enumerate(visitors):
        visit(visitor, days_ago(n % 3 + 1), [0, 5])
    save(migrated_store, *visitors)
    job.run_once()
    rewritten = compactions(monkeypatch, "aggregator.jobs.sessions")
    job.run_once(since=days_ago(30))
    partitions = stored_and_live(migrated_store, "sessions")
    assert partitions
    assert sorted(rewritten["sessions"]) == sorted(partitions)
    assert all(stored == live for stored, live in partitions.values()), partitions
    assert len(sessions(migrated_store)) == 10
