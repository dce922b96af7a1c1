"""The analytics job's visitor sets on the real store (both backends): dense visitor
numbers kept across days, per table and row a bitmap that counts what ``visitor_days``
counts, and no bitmap left holding an erased visitor after the next run."""

from __future__ import annotations

from datetime import timedelta

from aggregator.jobs.analytics import AnalyticsJob
from aggregator.reports.breakdowns import DAY_TABLES
from aggregator.store.client import Store
from clearsignal.settings import Settings
from tests.aggregator.reports.test_analytics import DAY, pageview, roll_up


def _numbers(store: Store) -> dict[str, int]:
    rows = store.rows("SELECT visitor_key, number FROM visitor_numbers FINAL ORDER BY number")
    return {str(key): int(number) for key, number in rows}


def _bitmaps(store: Store) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(table, day, row): distinct visitors and hits, as the bitmaps count them."""
    rows = store.rows(
        "SELECT breakdown, toString(day), row, bitmapCardinality(groupBitmapOrState(visitors)), "
        "sum(hits * bitmapCardinality(visitors)) FROM row_visitors FINAL "
        "GROUP BY breakdown, day, row"
    )
    return {(str(t), str(d), str(r)): (int(n), int(h)) for t, d, r, n, h in rows}


def _from_visitor_days(store: Store) -> dict[tuple[str, str, str], tuple[int, int]]:
    """The same from the rows of ``visitor_days``, one table at a time."""
    found = {}
    for table in DAY_TABLES:
        rows = store.rows(
            f"SELECT toString(day), toString(row), uniqExact(visitor), sum(hit) "
            f"FROM visitor_days FINAL ARRAY JOIN {table.keys} AS row, {table.values} AS hit "
            "GROUP BY day, row"
        )
        found |= {(table.name, str(d), str(r)): (int(n), int(h)) for d, r, n, h in rows}
    return found


def test_visitors_are_numbered_densely_and_keep_their_number_on_later_days(
    migrated_store: Store, settings: Settings
) -> None:
    roll_up(migrated_store, settings, [pageview(f"v{n}", "/a", day=DAY - timedelta(days=1))
                                       for n in range(3)])  # fmt: skip
    first = _numbers(migrated_store)
    assert sorted(first.values()) == [1, 2, 3]
    roll_up(migrated_store, settings, [pageview("v1", "/b"), pageview("w", "/b")])
    later = _numbers(migrated_store)
    assert {key: later[key] for key in first} == first
    assert later["w"] == 4
    last_days = dict(
        migrated_store.rows("SELECT visitor_key, max(last_day) FROM visitor_numbers GROUP BY 1")
    )
    assert (last_days["v0"], last_days["v1"]) == (DAY - timedelta(days=1), DAY)


def test_each_rows_bitmap_counts_what_the_visitor_days_count(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [
        pageview("v1", "/a", "DE", url="https://shop.example/a?utm_source=news"),
        pageview("v1", "/b", "DE"),
        pageview("v2", "/a", "FR", device="mobile"),
        pageview("v2", "/a", "FR", day=DAY - timedelta(days=1)),
        pageview("v3", "/c", "", day=DAY - timedelta(days=1), browser="Firefox"),
    ]
    roll_up(migrated_store, settings, rows)
    roll_up(migrated_store, settings, [pageview("v1", "/late")])
    expected = _from_visitor_days(migrated_store)
    assert _bitmaps(migrated_store) == expected
    assert expected[("pages", str(DAY), "/a")] == (2, 2)
    assert expected[("pages", str(DAY), "/late")] == (1, 1)
    assert expected[("days", str(DAY - timedelta(days=1)), str(DAY - timedelta(days=1)))] == (2, 2)
    # Each day counted once: the run before's rows of a recomputed day are gone.
    assert migrated_store.scalar("SELECT count() FROM row_visitors") == migrated_store.scalar(
        "SELECT count() FROM row_visitors FINAL"
    )


def test_the_next_run_counts_the_days_of_an_erased_visitor_again_without_them(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [pageview("gone", "/a"), pageview("gone", "/a", day=DAY - timedelta(days=1)),
            pageview("kept", "/a"), pageview("other", "/b", day=DAY - timedelta(days=3))]  # fmt: skip
    roll_up(migrated_store, settings, rows)
    for table in ("events", "visitor_days", "visitor_numbers"):  # as the erasure does
        migrated_store.command(f"DELETE FROM {table} WHERE visitor_key = 'gone'")
    assert _bitmaps(migrated_store)[("pages", str(DAY), "/a")] == (2, 2)  # until the run
    recounted = migrated_store.scalar("SELECT count() FROM row_visitors")
    AnalyticsJob(migrated_store, settings).run_once()
    assert _bitmaps(migrated_store) == _from_visitor_days(migrated_store)
    assert _bitmaps(migrated_store)[("pages", str(DAY), "/a")] == (1, 1)
    assert ("pages", str(DAY - timedelta(days=1)), "/a") not in _bitmaps(migrated_store)
    assert migrated_store.scalar("SELECT count() FROM row_visitors") < recounted
