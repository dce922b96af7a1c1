"""Filters on a site's figures: which visitors an answer counts.

A filter keeps the visitors who, in the period, did something: viewed a page, came from a
source, used a device, were in a country, had a signal. Filters combine (all must hold),
one per dimension. Each keeps the visitors of one row of a table of days (a page of
"pages", a country of "countries": ``breakdowns.day_table``), or for a signal the visitors
with it in the period; a visitor's matches make a bit mask, bit ``i`` set when the visitor
matched filter ``i`` (``aggregator.reports.visitor_sets``). The dimensions' values are
made from events by the SQL here (``event_sql``, ``where_sql``), which the rollup applies.
A bad dimension or value is a ``QueryError`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from aggregator.reports.query_errors import QueryError

__all__ = ["SOURCE_SQL", "Dimension", "Filter", "Filters"]

MAX_VALUE = 500

SOURCE_SQL = (
    "multiIf(extractURLParameter(url, 'utm_source') != '', "
    "lower(decodeURLComponent(extractURLParameter(url, 'utm_source'))), "
    "referrer = '', '(direct)', domain(referrer) = domain(url), '', "
    "domainWithoutWWW(referrer))"
)
"""Where a pageview came from: its ``utm_source``, else the referring site, else
``(direct)``; '' for a page reached from the site itself."""


def _utm(name: str) -> str:
    return f"decodeURLComponent(extractURLParameter(url, 'utm_{name}'))"


class Dimension(StrEnum):
    PAGE = "page"
    SOURCE = "source"
    UTM_SOURCE = "utm_source"
    UTM_MEDIUM = "utm_medium"
    UTM_CAMPAIGN = "utm_campaign"
    DEVICE = "device"
    BROWSER = "browser"
    OS = "os"
    COUNTRY = "country"
    EVENT = "event"
    SIGNAL = "signal"

    @property
    def event_sql(self) -> str:
        """The event's value of this dimension, in SQL over the events table."""
        return _EVENT_SQL[self]

    @property
    def where_sql(self) -> str:
        """Which events have a value of this dimension."""
        return _WHERE_SQL.get(self, "1")

    @property
    def rollup_column(self) -> str:
        """The ``visitor_days`` array of this dimension's values (a signal has none)."""
        return _ROLLUP_COLUMNS.get(self, "")


_EVENT_SQL = {
    Dimension.PAGE: "path",
    Dimension.SOURCE: SOURCE_SQL,
    Dimension.UTM_SOURCE: _utm("source"),
    Dimension.UTM_MEDIUM: _utm("medium"),
    Dimension.UTM_CAMPAIGN: _utm("campaign"),
    Dimension.DEVICE: "device",
    Dimension.BROWSER: "browser",
    Dimension.OS: "os",
    Dimension.COUNTRY: "country",
    Dimension.EVENT: "name",
    Dimension.SIGNAL: "",  # not an event's: the visitor's signals (reports.visitor_sets)
}
_ROLLUP_COLUMNS = {
    Dimension.PAGE: "pages", Dimension.SOURCE: "sources", Dimension.UTM_SOURCE: "utm_sources",
    Dimension.UTM_MEDIUM: "utm_mediums", Dimension.UTM_CAMPAIGN: "utm_campaigns",
    Dimension.DEVICE: "devices", Dimension.BROWSER: "browsers", Dimension.OS: "systems",
    Dimension.COUNTRY: "countries", Dimension.EVENT: "goals",
}  # fmt: skip
_PAGEVIEW = "type = 'pageview'"
_WHERE_SQL = {
    Dimension.PAGE: _PAGEVIEW,
    Dimension.SOURCE: _PAGEVIEW,
    Dimension.UTM_SOURCE: _PAGEVIEW,
    Dimension.UTM_MEDIUM: _PAGEVIEW,
    Dimension.UTM_CAMPAIGN: _PAGEVIEW,
    Dimension.EVENT: "type IN ('custom', 'step')",
}
_VALUE_PATTERNS = {
    Dimension.DEVICE: re.compile(r"desktop|mobile|tablet|unknown"),
    Dimension.COUNTRY: re.compile(r"[A-Z]{2}|"),
}


@dataclass(frozen=True)
class Filter:
    dimension: Dimension
    value: str


@dataclass(frozen=True)
class Filters:
    items: tuple[Filter, ...] = ()

    @classmethod
    def parse(cls, query: Mapping[str, str], signal_rules: Collection[str]) -> Filters:
        """The filters among a request's parameters (a parameter named as a dimension)."""
        items = []
        for dimension in Dimension:
            value = query.get(dimension.value)
            if value is None:
                continue
            if len(value) > MAX_VALUE:
                raise QueryError(dimension.value, f"at most {MAX_VALUE} characters")
            pattern = _VALUE_PATTERNS.get(dimension)
            if pattern is not None and not pattern.fullmatch(value):
                raise QueryError(dimension.value, f"{value[:40]!r} is not a {dimension.value}")
            if dimension is Dimension.SIGNAL and value not in signal_rules:
                raise QueryError("signal", f"{value[:40]!r} is not a signal rule")
            items.append(Filter(dimension, value))
        return cls(tuple(items))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def full(self) -> int:
        """The mask of a visitor who matched every filter."""
        return (1 << len(self.items)) - 1

    def with_(self, dimension: Dimension, value: str) -> Filters:
        kept = tuple(f for f in self.items if f.dimension is not dimension)
        return Filters((*kept, Filter(dimension, value)))

    def without(self, dimension: Dimension) -> Filters:
        return Filters(tuple(f for f in self.items if f.dimension is not dimension))

    def as_query(self) -> dict[str, str]:
        return {f.dimension.value: f.value for f in self.items}
