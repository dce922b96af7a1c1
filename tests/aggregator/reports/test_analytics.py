"""The analytics tables and totals under periods and filters, on the real store: what they
count, and that no answer, alone or subtracted from another, publishes fewer than k."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from aggregator.jobs.analytics import AnalyticsJob
from aggregator.jobs.sessions import SessionsJob
from aggregator.reports.analytics import Question, SiteAnalytics
from aggregator.reports.breakdowns import BREAKDOWNS
from aggregator.reports.filters import Dimension, Filters
from aggregator.reports.periods import Period
from aggregator.store.client import Store
from clearsignal.settings import Settings
from collector.ingest.rows import EVENT_COLUMNS, ROW_FORMAT, rows_json
from tests.support.spooled_events import event_row

K = 5
DAY = datetime.now(UTC).date() - timedelta(days=2)
PERIOD = Period("custom", DAY - timedelta(days=6), DAY)
_counter = itertools.count()


def _ms(day: date, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, 10, minute, tzinfo=UTC).timestamp() * 1000)


def _day_time(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def pageview(visitor: str, path: str, country: str = "", day: date = DAY, **more: Any) -> list[Any]:
    columns: dict[str, Any] = {
        "visitor_key": visitor,
        "type": "pageview",
        "path": path,
        "url": f"https://shop.example{path}",
        "country": country,
        "expires_at": _ms(day) // 1000 + 400 * 86_400,
    }
    return event_row(f"e{next(_counter)}", ts_ms=_ms(day, next(_counter) % 60), **columns | more)


def roll_up(store: Store, settings: Settings, rows: list[list[Any]]) -> None:
    """The rows stored as the collector stores them, and the analytics' rollup run."""
    store.insert_formatted("events", EVENT_COLUMNS, rows_json(rows), ROW_FORMAT)
    AnalyticsJob(store, settings).run_once()


def analytics(store: Store, settings: Settings, rows: list[list[Any]]) -> SiteAnalytics:
    roll_up(store, settings, rows)
    site = settings.sites[0].model_copy(update={"k_anonymity": K})
    return SiteAnalytics(store, site, clock=lambda: datetime(2026, 11, 21, tzinfo=UTC))


def ask(found: SiteAnalytics, table: str, **filters: str) -> dict[str, int]:
    answer = found.answer(Question(PERIOD, Filters.parse(filters, ["price_uncertainty"])))
    return {row.key: row.visitors for row in answer.table(table, 100).rows}


def total(found: SiteAnalytics, **filters: str) -> int | None:
    return found.answer(Question(PERIOD, Filters.parse(filters, []))).total


@pytest.fixture
def shop(migrated_store: Store, settings: Settings) -> SiteAnalytics:
    """20 German visitors on /a, 2 French on /a, 15 French on /b (k = 5)."""
    rows = [pageview(f"de{n}", "/a", "DE") for n in range(20)]
    rows += [pageview(f"fa{n}", "/a", "FR") for n in range(2)]
    rows += [pageview(f"fb{n}", "/b", "FR") for n in range(15)]
    return analytics(migrated_store, settings, rows)


def test_tables_count_distinct_visitors_and_their_pageviews(shop: SiteAnalytics) -> None:
    answer = shop.answer(Question(PERIOD))
    assert answer.total == 37
    pages = answer.table("pages", 10)
    assert [(r.key, r.visitors, r.value) for r in pages.rows] == [("/a", 22, 22), ("/b", 15, 15)]
    assert pages.rows[0].share == pytest.approx(22 / 37)
    assert ask(shop, "countries") == {"DE": 20, "FR": 17}
    assert answer.summary().pageviews == 37


def test_a_filter_keeps_the_visitors_who_match_it(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [pageview(f"de{n}", "/a", "DE") for n in range(10)]
    rows += [pageview(f"fa{n}", "/a", "FR") for n in range(8)]
    rows += [pageview(f"fb{n}", "/b", "FR") for n in range(9)]
    found = analytics(migrated_store, settings, rows)
    assert total(found, country="FR") == 17
    assert ask(found, "pages", country="FR") == {"/a": 8, "/b": 9}
    assert ask(found, "countries", page="/a") == {"DE": 10, "FR": 8}


def test_a_row_that_would_give_away_the_rest_of_the_filtered_total_is_hidden(
    shop: SiteAnalytics,
) -> None:
    """17 French visitors, 15 of them on /b: /b under "France" would leave 2 on /a."""
    assert total(shop, country="FR") == 17
    assert ask(shop, "pages", country="FR") == {}


def test_a_row_is_hidden_when_the_unfiltered_row_minus_it_is_under_k(shop: SiteAnalytics) -> None:
    """/a has 22 visitors and 20 German ones: publishing both gives the 2 French away."""
    assert ask(shop, "pages")["/a"] == 22
    assert "/a" not in ask(shop, "pages", country="DE")
    assert total(shop, country="DE") == 20  # the total alone singles nobody out


def test_a_filtered_total_is_hidden_when_a_looser_total_minus_it_is_under_k(
    shop: SiteAnalytics,
) -> None:
    """French visitors: 17; French on /b: 15. "All French minus French on /b" is 2 people."""
    assert total(shop, country="FR") == 17
    assert total(shop, page="/b") == 15
    assert total(shop, country="FR", page="/b") is None
    assert ask(shop, "pages", country="FR", page="/b") == {}


def test_an_exclusive_table_hides_what_would_be_read_off_as_a_remainder(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [pageview(f"d{n}", "/", "DE") for n in range(12)]
    rows += [pageview(f"u{n}", "/", "US") for n in range(8)]
    rows += [pageview(f"s{n}", "/", "SE") for n in range(2)]
    found = analytics(migrated_store, settings, rows)
    # SE (2) is under k; alone it would be 22 - 12 - 8: the smallest shown country goes too.
    assert ask(found, "countries") == {"DE": 12}


def test_the_period_bounds_what_is_counted(migrated_store: Store, settings: Settings) -> None:
    rows = [pageview(f"v{n}", "/", day=DAY) for n in range(6)]
    rows += [pageview(f"old{n}", "/", day=DAY - timedelta(days=8)) for n in range(6)]
    found = analytics(migrated_store, settings, rows)
    assert total(found) == 6
    previous = found.answer(Question(PERIOD.previous())).total
    assert previous == 6
    assert ask(found, "days") == {str(DAY): 6}


def test_no_published_number_differs_from_a_looser_one_by_fewer_than_k(
    migrated_store: Store, settings: Settings
) -> None:
    """Random visitors over pages, countries and devices; every total and row under every
    combination of up to three filters is asked for, as someone trying to single people
    out would. Any two published counts of one row where one's filters include the
    other's differ by 0 or at least k."""
    rng = random.Random(7)
    pages, countries, devices = ["/a", "/b", "/c"], ["DE", "FR", "SE"], ["desktop", "mobile"]
    rows = []
    for n in range(90):
        country, device = rng.choice(countries), rng.choice(devices)
        for path in rng.sample(pages, rng.randint(1, 2)):
            rows.append(pageview(f"r{n}", path, country, device=device))
    found = analytics(migrated_store, settings, rows)
    options = {"page": pages, "country": countries, "device": devices}
    published: dict[tuple[str, frozenset[tuple[str, str]]], int] = {}
    for size in range(4):
        for dimensions in itertools.combinations(options, size):
            for values in itertools.product(*(options[d] for d in dimensions)):
                filters = dict(zip(dimensions, values, strict=True))
                key = frozenset(filters.items())
                answer = found.answer(Question(PERIOD, Filters.parse(filters, [])))
                if answer.total is not None:
                    published[("", key)] = answer.total
                for row in answer.table("pages", 100).rows:
                    published[(row.key, key)] = row.visitors
    assert len(published) > 20  # the check below has something to check
    for (row, tight), count in published.items():
        for (other_row, loose), looser in published.items():
            if other_row == row and loose < tight:
                difference = looser - count
                assert difference == 0 or difference >= K, (row, dict(tight), dict(loose))


def test_signal_filter_counts_visitors_with_the_signal(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [pageview(f"v{n}", "/pricing") for n in range(20)]
    found = analytics(migrated_store, settings, rows)
    signal_rows = [
        ["demo", f"v{n}", "price_uncertainty", 1, datetime(2026, 11, 19, tzinfo=UTC),
         _day_time(DAY), 3.0, [], _day_time(DAY), _day_time(DAY + timedelta(days=400))]
        for n in range(8)
    ]  # fmt: skip
    migrated_store.insert(
        "signals",
        signal_rows,
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "evidence", "computed_at", "expires_at"],
    )  # fmt: skip
    answer = found.answer(
        Question(PERIOD, Filters.parse({"signal": "price_uncertainty"}, ["price_uncertainty"]))
    )
    assert answer.total == 8
    assert (
        Filters.parse({"signal": "price_uncertainty"}, ["price_uncertainty"]).items[0].dimension
        is Dimension.SIGNAL
    )


def _visit(visitor: str, pages: list[tuple[int, str]]) -> list[list[Any]]:
    """A visitor's pageviews on DAY, at the minutes given (one visit)."""
    return [
        event_row(
            f"e{next(_counter)}", ts_ms=_ms(DAY, minute), visitor_key=visitor, type="pageview",
            path=path, url=f"https://shop.example{path}", expires_at=_ms(DAY) // 1000 + 400 * 86_400,
        )
        for minute, path in pages
    ]  # fmt: skip


def test_the_summary_counts_the_visits_of_the_visitors_who_match_every_filter(
    migrated_store: Store, settings: Settings
) -> None:
    rows = [row for n in range(6) for row in _visit(f"bounced{n}", [(0, "/a")])]
    rows += [row for n in range(6) for row in _visit(f"read{n}", [(0, "/a"), (2, "/b"), (4, "/b")])]
    found = analytics(migrated_store, settings, rows)
    SessionsJob(migrated_store, settings).run_once(since=_day_time(DAY) - timedelta(days=30))
    everyone = found.answer(Question(PERIOD)).summary()
    assert (everyone.visitors, everyone.pageviews, everyone.visits) == (12, 24, 12)
    assert (everyone.bounce_rate, everyone.pages_per_visit, everyone.visit_seconds) == (
        0.5, 2.0, 120.0,  # 6 visits of 0 s and 6 of 240 s
    )  # fmt: skip
    on_b = found.answer(Question(PERIOD, Filters.parse({"page": "/b"}, []))).summary()
    assert (on_b.visitors, on_b.pageviews, on_b.visits) == (6, 18, 6)
    assert (on_b.bounce_rate, on_b.pages_per_visit, on_b.visit_seconds) == (0.0, 3.0, 240.0)


def test_the_summary_and_every_table_are_read_in_one_statement(
    shop: SiteAnalytics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The visitors' masks are computed once for the whole page, not once per part."""
    assert shop.materialized_cte is not None  # the engine's settings are asked once, now
    statements: list[str] = []
    rows = shop.store.rows
    monkeypatch.setattr(shop.store, "rows", lambda sql, *a: statements.append(sql) or rows(sql, *a))
    answer = shop.answer(Question(PERIOD, Filters.parse({"country": "DE"}, [])))
    summary, tables = answer.read(list(BREAKDOWNS), 10, summary=True)
    assert len(statements) == 1
    assert statements[0].count("AS mask FROM visitor_numbers") == 1  # the masks, once
    # No table counts distinct visitors of the period's rows of visitor_days: the tables
    # of days are bitmaps (engaged time is per visitor of the period, entry pages per visit).
    assert statements[0].count("uniqExact") == 2
    # The visits are read once for the entry and exit pages and the summary's figures.
    assert statements[0].count("FROM sessions") == 1
    assert (summary.visitors if summary else None, tables["countries"].rows[0].key) == (20, "DE")
