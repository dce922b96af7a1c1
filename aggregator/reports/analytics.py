"""A site's web analytics for any period and filters, k-anonymous under every combination.

Everything is counted in distinct visitors (a visitor with analytics consent across days,
an anonymous one per day). The tables of days (pages, sources, countries, ...) and the
total come from the visitor sets the analytics job keeps (``row_visitors``: per day and
row a bitmap of the visitors' numbers; ``aggregator.reports.visitor_sets``), what their
rows count and the engaged time from ``visitor_days`` (one row per visitor and day:
``aggregator.reports.breakdowns``), the entry and exit pages and the visits from
``sessions``, the visitors of the last minutes from ``events``.

How filters keep the k rule (``aggregator.signals.k_anonymity``, "cells"): each visitor
who matched a filter has a bit mask of the filters they matched (``aggregator.reports.
filters``); every other visitor has mask 0. The visitors per mask are the cells of the
filtered total; a table's row adds one more condition, so its cells are the row's
visitors per mask and the rest of each mask's visitors. A number is published only when
all its cells are 0 or at least k, so no subtraction between answers under fewer filters
singles anyone out.
Besides, a table's rows are shown only while the filtered total is, and the rows of an
``exclusive`` table (each visitor mostly in one) are kept from giving away what they hide
together (``partition``). A hidden number is ``None``: "fewer than k" on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aggregator.reports.breakdowns import BREAKDOWNS, DAY_TABLES, Breakdown
from aggregator.reports.filters import Filters
from aggregator.reports.periods import Period
from aggregator.reports.visitor_sets import DAYS, VisitorSets
from aggregator.signals.k_anonymity import Group, cells_safe, partition
from aggregator.signals.rules import RULES
from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import SiteSettings

__all__ = ["REALTIME_MINUTES", "Question", "Row", "SiteAnalytics", "Summary", "Table"]

REALTIME_MINUTES = 5
MATERIALIZED_CTE = "enable_materialized_cte"
RULE_IDS = frozenset(rule.id for rule in RULES)
_TOTAL = "_total"  # a read's branch of the filtered total (table names have no "_" first)
_VISITS = "_visits"  # and of the summary's visit figures
_DAY_TABLES = "_day_tables"  # and of the tables of days, all in one
_SESSIONS = "_sessions"  # and of the tables counted per visit, with the visit figures
_TAGGED = (_DAY_TABLES, _SESSIONS)  # the branches whose rows name their table


def _visits(table: str) -> str:
    """The sessions of the period (``table``: the alias to qualify the columns with)."""
    return (
        f"{table}.site = {{site:String}} "
        f"AND {table}.session_start >= {{start:DateTime64(3, 'UTC')}} "
        f"AND {table}.session_start < {{end:DateTime64(3, 'UTC')}}"
    )


def _first(cases: list[tuple[str, str]], otherwise: str) -> str:
    """The value of the first case whose condition holds, else ``otherwise``, in SQL."""
    if not cases:
        return otherwise
    return f"multiIf({''.join(f'{when}, {then}, ' for when, then in cases)}{otherwise})"


@dataclass(frozen=True)
class Question:
    period: Period
    filters: Filters = field(default_factory=Filters)

    @classmethod
    def parse(cls, query: Mapping[str, str], site: SiteSettings, today: date) -> Question:
        """The period and filters a request's parameters name (``QueryError`` if bad)."""
        oldest = today - timedelta(days=site.retention_days)
        period = Period.parse(query, today, oldest)
        return cls(period, Filters.parse(query, RULE_IDS))

    def as_query(self) -> dict[str, str]:
        return self.period.as_query() | self.filters.as_query()


@dataclass(frozen=True)
class Summary:
    visitors: int | None
    pageviews: int | None
    visits: int | None
    bounce_rate: float | None
    visit_seconds: float | None  # the mean visit's length
    pages_per_visit: float | None


@dataclass(frozen=True)
class Row:
    key: str
    visitors: int
    value: int
    share: float  # of the filtered visitors (for events and goals: the conversion rate)


@dataclass(frozen=True)
class Table:
    breakdown: Breakdown
    total: int | None  # the filtered visitors; None: fewer than k, and no row is shown
    rows: list[Row]  # the published rows, most visitors first
    hidden_rows: int  # rows with visitors that are not published
    hidden_keys: frozenset[str] = frozenset()  # which (for the days of a chart)


Cells = dict[int, int]  # visitors per filter mask


class _Answer:
    """The figures for one question, read from the store as they are asked for."""

    def __init__(self, analytics: SiteAnalytics, question: Question) -> None:
        self._analytics = analytics
        self.question = question
        period, filters = question.period, question.filters
        self.sets = VisitorSets(filters)
        self._aliases, parameters = self.sets.aliases()
        self.full = filters.full
        self._totals: tuple[Cells, int] | None = None  # visitors per mask; pageviews
        self.parameters: dict[str, Any] = {
            "site": analytics.site.id,
            "first": period.first,
            "last": period.last,
            "start": datetime.combine(period.first, time(), UTC),
            "end": datetime.combine(period.last + timedelta(days=1), time(), UTC),
            **parameters,
        }

    @property
    def _store(self) -> Store:
        return self._analytics.store

    @property
    def _k(self) -> int:
        return self._analytics.site.k_anonymity

    def _with_masks(self, rows: str, visitor: str) -> tuple[str, str]:
        """``rows`` (a FROM clause) joined to the visitors' masks (``matched``: a statement
        names it in ``_statement``), and the mask column."""
        if not self.question.filters:
            return rows, "toUInt32(0)"
        return f"{rows} ANY LEFT JOIN matched AS m ON {visitor} = m.visitor", "m.mask"

    def _statement(self, select: str, materialized: bool = False) -> str:
        """``select`` with the visitor sets and the masks it refers to (``matched``);
        ``materialized``: the masks are computed once for the whole statement (several
        tables at once)."""
        if not self.question.filters:
            return select
        kind = "MATERIALIZED " if materialized else ""
        return f"WITH {self._aliases}, matched AS {kind}({self.sets.matched()}) {select}"

    def _sessions_sql(self, tables: list[Breakdown], summary: bool) -> str:
        """One pass over the period's visits for the tables counted per visit (``tables``:
        their rows, with the visitors per mask and the visits) and, with ``summary``, the
        summary's visit figures (rows of ``_VISITS``: visits, bounces, milliseconds and
        pageviews, summed per mask; the summary takes the full mask's). Each grouping set
        is a table's, or the summary's. Rows: t, row, mask, visitors, value."""
        columns = [f"v.{table.from_sessions}" for table in tables]
        sets = [f"({column}, mask)" for column in columns] + (["(mask)"] if summary else [])
        grouped = [f"grouping({column}) = 0" for column in columns]
        table = _first([(g, f"'{t.name}'") for g, t in zip(grouped, tables, strict=True)],
                       f"'{_VISITS}'")  # fmt: skip
        row = _first(list(zip(grouped, columns, strict=True)), "''")
        source, mask = self._with_masks("sessions AS v FINAL", "sipHash64(v.visitor_key)")
        figures = ", ".join(
            f"('{name}', toInt64({name}))"
            for name in ("visits", "bounces", "milliseconds", "pageviews")
        )
        return (
            "SELECT t, figure.1 AS row, mask, visitors, figure.2 AS value FROM ("
            f"SELECT {table} AS t, {row} AS key, {mask} AS mask, "
            "uniqExact(sipHash64(v.visitor_key)) AS visitors, count() AS visits, "
            "countIf(v.pageviews <= 1) AS bounces, "
            "sum(dateDiff('millisecond', v.session_start, v.session_end)) AS milliseconds, "
            f"sum(v.pageviews) AS pageviews FROM {source} WHERE {_visits('v')} "
            f"GROUP BY GROUPING SETS ({', '.join(sets)})) "
            f"ARRAY JOIN if(t = '{_VISITS}', [{figures}], [(key, toInt64(visits))]) AS figure"
        )

    @property
    def total(self) -> int | None:
        """The filtered visitors; None: fewer than k (nothing under the filters is shown)."""
        cells, _ = self._read_totals()
        if not cells_safe(self._all_masks(cells), self._k):
            return None
        return cells.get(self.full, 0)

    def _read_totals(self) -> tuple[Cells, int]:
        if self._totals is None:
            self.read([], 0, summary=False)
        assert self._totals is not None
        return self._totals

    def _all_masks(self, cells: Cells) -> list[int]:
        return [cells.get(mask, 0) for mask in range(self.full + 1)]

    def summary(self) -> Summary:
        summary, _ = self.read([], 0, summary=True)
        assert summary is not None
        return summary

    def table(self, name: str, limit: int) -> Table:
        return self.tables([name], limit)[name]

    def tables(self, names: list[str], limit: int) -> dict[str, Table]:
        _, tables = self.read(names, limit, summary=False)
        return tables

    def read(
        self, names: list[str], limit: int, summary: bool
    ) -> tuple[Summary | None, dict[str, Table]]:
        """The tables named (up to ``limit`` rows each) and, with ``summary``, the summary:
        read in one statement, with the visitors' masks computed once for all, and the
        filtered total unless an earlier read gave it."""
        asked = [BREAKDOWNS[name] for name in names]
        by_day = [b for b in asked if b in DAY_TABLES]
        per_visit = [b for b in asked if b.from_sessions]
        branches = {b.name: self._visitor_sql(b) for b in asked if b.per_visitor}
        if by_day:
            branches[_DAY_TABLES] = self.sets.tables_sql(by_day)
        if per_visit or summary:
            branches[_SESSIONS] = self._sessions_sql(per_visit, summary)
        if self._totals is None:
            branches[_TOTAL] = self.sets.total_sql()
        found: dict[str, dict[str, tuple[Cells, int]]] = {
            name: {} for name in [*names, *branches, _VISITS]
        }
        if branches:
            for name, row, mask, visitors, value in self._store.rows(
                self._union(branches), self.parameters | {"full": self.full}
            ):
                cells, full_value = found[name].get(row, ({}, 0))
                cells[int(mask)] = int(visitors)
                found[name][row] = (cells, int(value) if int(mask) == self.full else full_value)
        if _TOTAL in found:
            self._totals = found[_TOTAL].get("", ({}, 0))
        total = self.total
        tables = {
            name: self._published(BREAKDOWNS[name], total, found[name], limit)
            if total is not None
            else Table(BREAKDOWNS[name], None, [], 0)
            for name in names
        }
        if not summary:
            return None, tables
        visits = {row: value for row, (_, value) in found[_VISITS].items()}
        return self._summary(total, visits), tables

    def _union(self, branches: dict[str, str]) -> str:
        """One statement of the ``branches`` (name: a SELECT of row, mask, visitors and
        value), rows tagged with their branch's name (the tables of days': with each row's
        table)."""
        union = " UNION ALL ".join(
            f"SELECT {'t' if name in _TAGGED else repr(name)} AS t, toString(row) AS row, "
            "toUInt32(mask) AS mask, "
            f"toUInt64(visitors) AS visitors, toInt64(value) AS value FROM ({select})"
            for name, select in branches.items()
        )
        materialized = len(branches) > 1 and self._analytics.materialized_cte
        statement = self._statement(f"SELECT * FROM ({union})", materialized)
        if materialized and self.question.filters:
            statement += f" SETTINGS {MATERIALIZED_CTE} = 1"
        return statement

    def _summary(self, total: int | None, sums: dict[str, int]) -> Summary:
        visits = sums.get("visits", 0)
        if total is None:
            return Summary(None, None, None, None, None, None)
        return Summary(
            visitors=total,
            pageviews=self._read_totals()[1],
            visits=visits,
            bounce_rate=sums.get("bounces", 0) / visits if visits else None,
            visit_seconds=sums.get("milliseconds", 0) / visits / 1000 if visits else None,
            pages_per_visit=sums.get("pageviews", 0) / visits if visits else None,
        )

    def _visitor_sql(self, breakdown: Breakdown) -> str:
        """A table counted per visitor of the period (engaged time), its visitors' masks
        from ``matched``."""
        rows = (
            "(SELECT visitor, sum(engaged_ms) AS engaged_ms, sum(engagements) AS engagements "
            f"FROM visitor_days WHERE {DAYS} GROUP BY visitor) AS v"
        )
        # Each visitor gets its mask before its arrays are spread into rows.
        source, mask = self._with_masks(rows, "v.visitor")
        return (
            "SELECT row, mask, uniqExact(visitor) AS visitors, sum(hit) AS value FROM "
            f"(SELECT v.visitor AS visitor, {mask} AS mask, {breakdown.keys} AS keys, "
            f"{breakdown.values} AS hits FROM {source}) "
            "ARRAY JOIN keys AS row, hits AS hit GROUP BY row, mask"
        )

    def _published(
        self, breakdown: Breakdown, total: int, counts: dict[str, tuple[Cells, int]], limit: int
    ) -> Table:
        full = self.full
        all_cells, _ = self._read_totals()
        keys = [key for key, (cells, _) in counts.items() if cells.get(full, 0) > 0]
        allowed = []
        for key in keys:
            cells = counts[key][0]
            row = [cells.get(mask, 0) for mask in range(full + 1)]
            rest = [all_cells.get(mask, 0) - n for mask, n in enumerate(row)]
            allowed.append(cells_safe(row + rest, self._k))
        groups = [Group(key, counts[key][0][full], float(counts[key][1])) for key in keys]
        if breakdown.exclusive:
            decided = partition(groups, self._k, allowed)
        else:
            decided = [
                g if ok and g.visitors >= self._k else g.hidden()
                for g, ok in zip(groups, allowed, strict=True)
            ]
        shown = sorted(
            (g for g in decided if not g.suppressed), key=lambda g: (-g.visitors, g.dimension)
        )
        rows = [
            Row(g.dimension, g.visitors, round(g.value), g.visitors / total if total else 0.0)
            for g in shown[:limit]
        ]
        hidden = frozenset(g.dimension for g in decided if g.suppressed)
        return Table(breakdown, total, rows, len(hidden), hidden)


class SiteAnalytics:
    """The analytics of one site; ``answer`` holds the figures of one question."""

    def __init__(
        self, store: Store, site: SiteSettings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.store = store
        self.site = site
        self.clock = clock

    def answer(self, question: Question) -> _Answer:
        return _Answer(self, question)

    @property
    def materialized_cte(self) -> bool:
        """Whether the store can compute a ``WITH`` once for a statement (ClickHouse 25.x+)."""
        return self.store.has_setting(MATERIALIZED_CTE)

    def realtime(self) -> int | None:
        """Visitors whose events arrived in the last ``REALTIME_MINUTES`` (None: under k)."""
        visitors = int(
            self.store.scalar(
                "SELECT uniqExact(visitor_key) FROM events WHERE site = {site:String} "
                "AND ingested_at >= {since:DateTime64(3, 'UTC')}",
                {"site": self.site.id, "since": self.clock() - timedelta(minutes=REALTIME_MINUTES)},
            )
        )
        return visitors if visitors == 0 or visitors >= self.site.k_anonymity else None
