"""The analytics job's rollup on the real store (both backends): one row per visitor and
day with what the analytics count, days recomputed when late events arrive, and no row
left twice once a run is done."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.jobs.analytics import AnalyticsJob
from aggregator.store.client import Store
from clearsignal.clock import EPOCH
from clearsignal.settings import Settings
from tests.aggregator.reports.test_analytics import DAY, pageview, roll_up
from tests.aggregator.store.test_compaction import compactions, stored_and_live


def test_a_visitors_day_holds_what_the_tables_count(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [
        pageview("v1", "/a", "DE", url="https://shop.example/a?utm_source=News&utm_medium=mail",
                 referrer="https://www.google.com"),
        pageview("v1", "/b", "DE", referrer="https://shop.example/a"),
        pageview("v1", "/b", "DE", os="Windows", browser="Firefox"),
        pageview("v1", "/a", "DE", day=DAY - timedelta(days=1)),
    ]  # fmt: skip
    roll_up(migrated_store, settings, rows)
    found = migrated_store.dicts(
        "SELECT day, pageviews, pages, page_views, sources, source_views, utm_sources, "
        "utm_mediums, countries, country_events, systems, system_events "
        "FROM visitor_days WHERE visitor_key = 'v1' ORDER BY day"
    )
    assert [row["day"] for row in found] == [DAY - timedelta(days=1), DAY]
    today = found[1]
    assert today["pageviews"] == 3
    assert dict(zip(today["pages"], today["page_views"], strict=True)) == {"/a": 1, "/b": 2}
    # utm_source first, then the referring site; from the site itself: not a source.
    assert dict(zip(today["sources"], today["source_views"], strict=True)) == {
        "news": 1,
        "(direct)": 1,
    }
    assert (today["utm_sources"], today["utm_mediums"]) == (["News"], ["mail"])
    assert dict(zip(today["countries"], today["country_events"], strict=True)) == {"DE": 3}
    assert dict(zip(today["systems"], today["system_events"], strict=True)) == {
        "Linux": 2,
        "Windows": 1,
    }


def deletes(store: Store) -> int:
    """The deletes run on the analytics' tables (each is a mutation, however few rows)."""
    found: int = store.scalar(
        "SELECT count() FROM system.mutations WHERE database = currentDatabase() "
        "AND table IN ('visitor_days', 'row_visitors')"
    )
    return found


def test_a_late_event_recomputes_its_day_and_leaves_one_row_per_visitor_and_day(
    migrated_store: Store, settings: Settings
) -> None:
    roll_up(migrated_store, settings, [pageview(f"v{n}", "/a") for n in range(5)])
    assert deletes(migrated_store) == 0  # a day's first run has nothing of before to delete
    roll_up(migrated_store, settings, [pageview("v0", "/late")])
    assert deletes(migrated_store) == 2  # the day's rows and visitor sets of the first run
    assert migrated_store.scalar("SELECT count() FROM visitor_days") == 5
    pages = migrated_store.scalar("SELECT pages FROM visitor_days WHERE visitor_key = 'v0'")
    assert pages == ["/a", "/late"]
    AnalyticsJob(migrated_store, settings).run_once()  # again: the same rows
    assert migrated_store.scalar("SELECT count() FROM visitor_days") == 5


def test_a_backfill_leaves_no_replaced_row_in_the_partitions(
    migrated_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recomputing every day deletes every row of the rollup and the visitor sets: the
    partitions are rewritten without them (``aggregator.store.compaction``)."""
    roll_up(migrated_store, settings, [pageview(f"v{n}", f"/p{n % 3}") for n in range(6)])
    rewritten = compactions(monkeypatch, "aggregator.jobs.analytics")
    AnalyticsJob(migrated_store, settings).run_once(since=EPOCH)
    for table in ("visitor_days", "row_visitors"):
        partitions = stored_and_live(migrated_store, table)
        assert partitions, table
        assert sorted(rewritten[table]) == sorted(partitions), table
        assert all(stored == live for stored, live in partitions.values()), (table, partitions)
    assert migrated_store.scalar("SELECT count() FROM visitor_days") == 6
