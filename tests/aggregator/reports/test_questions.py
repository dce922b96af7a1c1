"""Periods and filters as requests name them, and the field named when one is wrong."""

from __future__ import annotations

from datetime import date

import pytest

from aggregator.reports.filters import Dimension, Filters
from aggregator.reports.periods import Period
from aggregator.reports.query_errors import QueryError

TODAY, OLDEST = date(2026, 12, 7), date(2026, 6, 1)


def period(**query: str) -> Period:
    return Period.parse(query, TODAY, OLDEST)


def test_named_periods_end_today_and_a_month_is_its_calendar_month() -> None:
    assert (period(period="today").first, period(period="today").last) == (TODAY, TODAY)
    assert period(period="7d").first == date(2026, 12, 1)
    assert period().length == 30  # 30 days unless asked otherwise
    november = period(period="month", month="2026-11")
    assert (november.first, november.last) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period(period="month").last == TODAY  # this month: up to today


def test_the_previous_period_is_as_long_and_ends_the_day_before() -> None:
    custom = period(period="custom", **{"from": "2026-11-10", "to": "2026-11-19"})
    before = custom.previous()
    assert (before.first, before.last) == (date(2026, 10, 31), date(2026, 11, 9))
    assert Period.parse(custom.as_query(), TODAY, OLDEST) == custom


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "week"}, "period"),
        ({"period": "month", "month": "2026-13"}, "month"),
        ({"period": "month", "month": "2027-01"}, "month"),
        ({"period": "custom", "to": "2026-11-01"}, "from"),
        ({"period": "custom", "from": "2026-11-01"}, "to"),
        ({"period": "custom", "from": "yesterday", "to": "2026-11-01"}, "from"),
        ({"period": "custom", "from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"period": "custom", "from": "2026-11-02", "to": "2026-12-08"}, "to"),
        ({"period": "custom", "from": "2024-11-02", "to": "2026-12-01"}, "from"),
        ({"period": "custom", "from": "2025-01-01", "to": "2025-02-01"}, "to"),
    ],
)
def test_a_bad_period_names_its_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(QueryError) as refused:
        Period.parse(query, TODAY, OLDEST)
    assert refused.value.field == field


def test_filters_are_the_parameters_named_as_dimensions() -> None:
    filters = Filters.parse({"page": "/a", "country": "DE", "period": "7d"}, [])
    assert [(f.dimension, f.value) for f in filters.items] == [
        (Dimension.PAGE, "/a"),
        (Dimension.COUNTRY, "DE"),
    ]
    assert filters.full == 0b11
    assert filters.with_(Dimension.PAGE, "/b").as_query() == {"country": "DE", "page": "/b"}
    assert filters.without(Dimension.COUNTRY).as_query() == {"page": "/a"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"country": "Germany"}, "country"),
        ({"device": "toaster"}, "device"),
        ({"signal": "no_such_rule"}, "signal"),
        ({"page": "/" + "a" * 600}, "page"),
    ],
)
def test_a_bad_filter_names_its_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(QueryError) as refused:
        Filters.parse(query, ["price_uncertainty"])
    assert refused.value.field == field
