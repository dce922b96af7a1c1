"""The tables of a site's analytics: what each counts, per row, and which filter a row sets.

Each breakdown names, per visitor, the rows the visitor is counted in and how many of the
thing counted (``value``: pageviews, clicks, visits) they add to each, as a ClickHouse
aggregate over the visitor's events in the period (a ``(keys, values)`` map, as
``sumMap`` gives it). ``aggregator.reports.analytics`` counts visitors per row and filter
mask from it, and decides what may be published. The entry and exit pages come from the
``sessions`` table (one row per visit, kept by the sessions job) instead.

``exclusive`` breakdowns give each visitor mostly one row (a device, a country): their rows
are parts of the total, so what is hidden together is kept at 0 or k or more, and rows
without a value ("(none)") are counted too, as the total minus the rows would give them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.reports.filters import Dimension

__all__ = ["BREAKDOWNS", "Breakdown"]


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    row_title: str
    value_title: str  # what ``value`` counts; "" when only visitors are counted
    per_visitor: str  # SQL aggregate over a visitor's events: ([rows], [values])
    sets: Dimension | None = None  # the filter a click on a row sets
    exclusive: bool = False
    from_sessions: str = ""  # a column of ``sessions`` (entry and exit pages)


def _counted(row: str, where: str, value: str = "1") -> str:
    return f"sumMapIf([toString({row})], [toUInt64({value})], {where})"


def _every_value(dimension: Dimension) -> str:
    return _counted(f"if({dimension.event_sql} = '', '(none)', {dimension.event_sql})", "1")


def _of(dimension: Dimension, value: str = "1") -> str:
    where = f"{dimension.where_sql} AND {dimension.event_sql} != ''"
    return _counted(dimension.event_sql, where, value)


_SCROLL_BUCKET = (
    "multiIf(toUInt8OrZero(props['depth']) >= 100, '100%', toUInt8OrZero(props['depth']) >= 75, "
    "'75-99%', toUInt8OrZero(props['depth']) >= 50, '50-74%', "
    "toUInt8OrZero(props['depth']) >= 25, '25-49%', '0-24%')"
)
_ENGAGED_MS = "sumIf(toUInt64OrZero(props['ms']), type = 'engagement')"
_ENGAGED_BUCKET = (
    f"multiIf({_ENGAGED_MS} < 10000, '0-9 s', {_ENGAGED_MS} < 30000, '10-29 s', "
    f"{_ENGAGED_MS} < 60000, '30-59 s', {_ENGAGED_MS} < 180000, '1-2 min', "
    f"{_ENGAGED_MS} < 600000, '3-9 min', '10 min or more')"
)
_LINK = "element['href']"

BREAKDOWNS = {
    b.name: b
    for b in (
        Breakdown("pages", "Top pages", "Page", "Pageviews", _of(Dimension.PAGE), Dimension.PAGE),
        Breakdown("entry_pages", "Entry pages", "Page", "Visits", "", Dimension.PAGE,
                  from_sessions="entry_path"),
        Breakdown("exit_pages", "Exit pages", "Page", "Visits", "", Dimension.PAGE,
                  from_sessions="exit_path"),
        Breakdown("sources", "Sources", "Source", "Pageviews", _of(Dimension.SOURCE),
                  Dimension.SOURCE),
        Breakdown("utm_sources", "UTM sources", "utm_source", "Pageviews",
                  _of(Dimension.UTM_SOURCE), Dimension.UTM_SOURCE),
        Breakdown("utm_mediums", "UTM mediums", "utm_medium", "Pageviews",
                  _of(Dimension.UTM_MEDIUM), Dimension.UTM_MEDIUM),
        Breakdown("utm_campaigns", "UTM campaigns", "utm_campaign", "Pageviews",
                  _of(Dimension.UTM_CAMPAIGN), Dimension.UTM_CAMPAIGN),
        Breakdown("devices", "Devices", "Device", "", _every_value(Dimension.DEVICE),
                  Dimension.DEVICE, exclusive=True),
        Breakdown("browsers", "Browsers", "Browser", "", _every_value(Dimension.BROWSER),
                  Dimension.BROWSER, exclusive=True),
        Breakdown("operating_systems", "Operating systems", "OS", "",
                  _every_value(Dimension.OS), Dimension.OS, exclusive=True),
        Breakdown("countries", "Countries", "Country", "", _every_value(Dimension.COUNTRY),
                  Dimension.COUNTRY, exclusive=True),
        Breakdown("outbound_links", "Outbound links", "Link", "Clicks",
                  _counted(_LINK, f"type = 'outbound' AND {_LINK} != ''")),
        Breakdown("downloads", "Downloads", "File", "Clicks",
                  _counted(_LINK, f"type = 'download' AND {_LINK} != ''")),
        Breakdown("events", "Custom events and goals", "Event", "Events", _of(Dimension.EVENT),
                  Dimension.EVENT),
        Breakdown("scroll_depth", "Scroll depth", "Deepest point of a page", "Pages",
                  _counted(_SCROLL_BUCKET, "type = 'scroll'")),
        Breakdown("engaged_time", "Engaged time", "Engaged time in the period", "",
                  f"([if(countIf(type = 'engagement') > 0, {_ENGAGED_BUCKET}, '(none)')], "
                  "[toUInt64(1)])",
                  exclusive=True),
        Breakdown("days", "Visitors per day", "Day", "Pageviews",
                  _counted("toDate(ts)", "1", "type = 'pageview'"), exclusive=False),
    )
}  # fmt: skip
