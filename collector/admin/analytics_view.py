"""Everything the analytics page shows for one question, read in one go: the summary, the
visitors of the last minutes, every table, and the same for the period before when it is
compared. Read for the page itself, for a shared link's page and for the tables' CSV."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.concurrency import run_in_threadpool

from aggregator.reports.analytics import Question, SiteAnalytics, Summary, Table
from aggregator.reports.breakdowns import BREAKDOWNS
from aggregator.reports.query_errors import QueryError
from aggregator.store.client import Store
from clearsignal.settings import SiteSettings
from collector.admin.runtime import AdminRuntime
from collector.errors import PageRefused

__all__ = [
    "ANALYTICS_PATH",
    "CSV_ROWS",
    "ROWS_SHOWN",
    "SUMMARY",
    "AnalyticsView",
    "asked",
    "csv_tables",
    "read_analytics",
    "view_for",
]

ANALYTICS_PATH = "/admin/analytics"
ROWS_SHOWN = 10
CSV_ROWS = 10_000
SUMMARY = "summary"
"""The summary's name among the parts of a page a CSV can hold."""


@dataclass(frozen=True)
class AnalyticsView:
    site: SiteSettings
    question: Question
    compare: bool
    summary: Summary | None
    """None when only tables were asked for (a table's CSV)."""
    previous: Summary | None
    realtime: int | None
    tables: dict[str, Table]
    previous_tables: dict[str, Table]

    @property
    def k(self) -> int:
        return self.site.k_anonymity

    def query(self, **changes: str | None) -> dict[str, str]:
        """The request parameters of this view, with ``changes`` (None removes one)."""
        found = {"site": self.site.id, **self.question.as_query()}
        if self.compare:
            found["compare"] = "previous"
        for name, value in changes.items():
            if value is None:
                found.pop(name, None)
            else:
                found[name] = value
        return found


def asked(query: Mapping[str, str], site: SiteSettings, today: date) -> tuple[Question, bool]:
    """The question and whether to compare, as a page's parameters name them (a page
    refused with 400 naming the field when they are wrong)."""
    try:
        return Question.parse(query, site, today), query.get("compare") == "previous"
    except QueryError as wrong:
        raise PageRefused(400, "Not a period or filter", f"{wrong.field}: {wrong.detail}") from None


async def view_for(
    runtime: AdminRuntime,
    site: SiteSettings,
    query: Mapping[str, str],
    rows: int = ROWS_SHOWN,
    only: tuple[str, ...] | None = None,
) -> AnalyticsView:
    """The view a page's (or a CSV's) parameters ask for, read off the event loop."""
    today = datetime.fromtimestamp(runtime.clock(), UTC)
    question, compare = asked(query, site, today.date())
    return await run_in_threadpool(
        read_analytics, runtime.store, site, question, compare, lambda: today, rows, only
    )


def csv_tables(query: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """The table a CSV's ``table`` parameter names, and the parts to read for it."""
    name = query.get("table", "")
    if name != SUMMARY and name not in BREAKDOWNS:
        raise PageRefused(404, "No such table", f"One of {SUMMARY}, {', '.join(BREAKDOWNS)}.")
    return name, (name,)


def read_analytics(
    store: Store,
    site: SiteSettings,
    question: Question,
    compare: bool,
    clock: Callable[[], datetime],
    rows: int = ROWS_SHOWN,
    only: tuple[str, ...] | None = None,
) -> AnalyticsView:
    """The whole page: the summary, the last minutes and every table with up to ``rows``
    rows; or ``only`` the parts named (``SUMMARY`` or tables), as a CSV needs."""
    analytics = SiteAnalytics(store, site, clock)
    answer = analytics.answer(question)
    names = list(BREAKDOWNS) if only is None else [name for name in only if name in BREAKDOWNS]
    with_summary = only is None or SUMMARY in only
    before = analytics.answer(Question(question.period.previous(), question.filters))
    summary, tables = answer.read(names, rows, with_summary)
    previous, previous_tables = (
        before.read(names, CSV_ROWS, with_summary) if compare else (None, {})
    )
    return AnalyticsView(
        site=site,
        question=question,
        compare=compare,
        summary=summary,
        previous=previous,
        realtime=analytics.realtime() if only is None else None,
        tables=tables,
        previous_tables=previous_tables,
    )
