"""The tables of a site's analytics: what each counts per row, where the rollup keeps it, and
which filter a click on a row sets.

The analytics read ``visitor_days`` (one row per visitor and day, migration 0025), which
the analytics job keeps from ``events``. ``ROLLUP`` says how each of its array pairs is
made from a day's events (``rollup_select``); a ``Breakdown`` names the pair it reads
(``keys``, ``values``: SQL over a ``visitor_days`` row), or, for the engaged time, a row
per visitor from the period's sums. The entry and exit pages come from ``sessions`` (one
row per visit, kept by the sessions job) instead.

``exclusive`` breakdowns give each visitor mostly one row (a device, a country): their rows
are parts of the total, so what is hidden together is kept at 0 or k or more, and rows
without a value ("(none)") are counted too, as the total minus the rows would give them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aggregator.reports.filters import Dimension

__all__ = [
    "BREAKDOWNS",
    "DAY_TABLES",
    "EVERYONE",
    "ROLLUP",
    "Breakdown",
    "Pair",
    "day_table",
    "entries_sql",
    "rollup_columns",
    "rollup_select",
]


@dataclass(frozen=True)
class Pair:
    """Two arrays of a ``visitor_days`` row: what was counted, and how many of each."""

    keys: str
    values: str
    key_sql: str  # over one event
    where_sql: str  # which events count
    value_sql: str = "1"


def _of(dimension: Dimension, keys: str, values: str) -> Pair:
    where = f"{dimension.where_sql} AND {dimension.event_sql} != ''"
    return Pair(keys, values, dimension.event_sql, where)


def _every_value(dimension: Dimension, keys: str, values: str) -> Pair:
    value = dimension.event_sql
    return Pair(keys, values, f"if({value} = '', '(none)', {value})", "1")


_DEPTH = "toUInt8OrZero(props['depth'])"
_LINK = "element['href']"
ROLLUP = {
    pair.keys: pair
    for pair in (
        _of(Dimension.PAGE, "pages", "page_views"),
        _of(Dimension.SOURCE, "sources", "source_views"),
        _of(Dimension.UTM_SOURCE, "utm_sources", "utm_source_views"),
        _of(Dimension.UTM_MEDIUM, "utm_mediums", "utm_medium_views"),
        _of(Dimension.UTM_CAMPAIGN, "utm_campaigns", "utm_campaign_views"),
        _every_value(Dimension.DEVICE, "devices", "device_events"),
        _every_value(Dimension.BROWSER, "browsers", "browser_events"),
        _every_value(Dimension.OS, "systems", "system_events"),
        _every_value(Dimension.COUNTRY, "countries", "country_events"),
        Pair("outbound", "outbound_clicks", _LINK, f"type = 'outbound' AND {_LINK} != ''"),
        Pair("downloads", "download_clicks", _LINK, f"type = 'download' AND {_LINK} != ''"),
        _of(Dimension.EVENT, "goals", "goal_events"),
        Pair("scroll", "scroll_pages",
             f"multiIf({_DEPTH} >= 100, '100%', {_DEPTH} >= 75, '75-99%', {_DEPTH} >= 50, "
             f"'50-74%', {_DEPTH} >= 25, '25-49%', '0-24%')", "type = 'scroll'"),
    )
}  # fmt: skip


def rollup_columns() -> list[str]:
    """The columns ``rollup_select`` gives, in its order."""
    pairs = [name for pair in ROLLUP.values() for name in (pair.keys, pair.values)]
    return ["pageviews", *pairs, "engaged_ms", "engagements"]


def rollup_select() -> str:
    """The columns of ``visitor_days`` after ``site, day, visitor, visitor_key``, as
    aggregates over one visitor's events of one day."""
    parts = ["toUInt32(countIf(type = 'pageview')) AS pageviews"]
    for pair in ROLLUP.values():
        counted = (
            f"sumMapIf([toString({pair.key_sql})], [toUInt64({pair.value_sql})], {pair.where_sql})"
        )
        parts.append(f"{counted}.1 AS {pair.keys}")
        parts.append(f"CAST({counted}.2, 'Array(UInt32)') AS {pair.values}")
    parts.append("sumIf(toUInt64OrZero(props['ms']), type = 'engagement') AS engaged_ms")
    parts.append("toUInt32(countIf(type = 'engagement')) AS engagements")
    return ", ".join(parts)


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    row_title: str
    value_title: str  # what ``value`` counts; "" when only visitors are counted
    keys: str = ""  # SQL over a visitor_days row: the rows it counts the visitor in
    values: str = ""  # and how many of the thing counted for each
    sets: Dimension | None = None  # the filter a click on a row sets
    exclusive: bool = False
    per_visitor: bool = False  # keys and values over the visitor's sums in the period
    from_sessions: str = ""  # a column of ``sessions`` (entry and exit pages)


def _pair(name: str, title: str, row: str, value: str, keys: str, **more: object) -> Breakdown:
    return Breakdown(name, title, row, value, keys, ROLLUP[keys].values, **more)  # type: ignore[arg-type]


_ENGAGED_BUCKET = (
    "multiIf(engagements = 0, '(none)', engaged_ms < 10000, '0-9 s', engaged_ms < 30000, "
    "'10-29 s', engaged_ms < 60000, '30-59 s', engaged_ms < 180000, '1-2 min', "
    "engaged_ms < 600000, '3-9 min', '10 min or more')"
)

BREAKDOWNS = {
    b.name: b
    for b in (
        _pair("pages", "Top pages", "Page", "Pageviews", "pages", sets=Dimension.PAGE),
        Breakdown("entry_pages", "Entry pages", "Page", "Visits", sets=Dimension.PAGE,
                  from_sessions="entry_path"),
        Breakdown("exit_pages", "Exit pages", "Page", "Visits", sets=Dimension.PAGE,
                  from_sessions="exit_path"),
        _pair("sources", "Sources", "Source", "Pageviews", "sources", sets=Dimension.SOURCE),
        _pair("utm_sources", "UTM sources", "utm_source", "Pageviews", "utm_sources",
              sets=Dimension.UTM_SOURCE),
        _pair("utm_mediums", "UTM mediums", "utm_medium", "Pageviews", "utm_mediums",
              sets=Dimension.UTM_MEDIUM),
        _pair("utm_campaigns", "UTM campaigns", "utm_campaign", "Pageviews", "utm_campaigns",
              sets=Dimension.UTM_CAMPAIGN),
        _pair("devices", "Devices", "Device", "", "devices", sets=Dimension.DEVICE,
              exclusive=True),
        _pair("browsers", "Browsers", "Browser", "", "browsers", sets=Dimension.BROWSER,
              exclusive=True),
        _pair("operating_systems", "Operating systems", "OS", "", "systems",
              sets=Dimension.OS, exclusive=True),
        _pair("countries", "Countries", "Country", "", "countries", sets=Dimension.COUNTRY,
              exclusive=True),
        _pair("outbound_links", "Outbound links", "Link", "Clicks", "outbound"),
        _pair("downloads", "Downloads", "File", "Clicks", "downloads"),
        _pair("events", "Custom events and goals", "Event", "Events", "goals",
              sets=Dimension.EVENT),
        _pair("scroll_depth", "Scroll depth", "Deepest point of a page", "Pages", "scroll"),
        Breakdown("engaged_time", "Engaged time", "Engaged time in the period", "",
                  f"[{_ENGAGED_BUCKET}]", "[toUInt32(1)]", exclusive=True, per_visitor=True),
        Breakdown("days", "Visitors per day", "Day", "Pageviews", "[toString(day)]",
                  "[pageviews]"),
    )
}  # fmt: skip

EVERYONE = "days"
"""The day table whose rows, the days, hold every visitor of the day."""

DAY_TABLES = tuple(b for b in BREAKDOWNS.values() if not b.from_sessions and not b.per_visitor)
"""The tables counted per day, whose visitors per row are kept as bitmaps too
(``row_visitors``, ``aggregator.jobs.visitor_sets``)."""


def day_table(dimension: Dimension) -> str:
    """The day table whose rows are the values of ``dimension`` (a filter on it keeps the
    visitors of that row); "" for a dimension without one (a signal)."""
    column = dimension.rollup_column
    return next((b.name for b in DAY_TABLES if column and b.keys == column), "")


def entries_sql(tables: Iterable[Breakdown]) -> str:
    """An array over a ``visitor_days`` row: for each of the day ``tables``, each of its
    rows there as (table, row, hits)."""
    return "arrayConcat({})".format(", ".join(
        f"arrayMap((k, h) -> ('{table.name}', toString(k), toUInt64(h)), "
        f"{table.keys}, {table.values})"
        for table in tables
    ))  # fmt: skip
