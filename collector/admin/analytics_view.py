"""Everything the analytics page shows for one question, read in one go: the summary, the
visitors of the last minutes, every table, and the same for the period before when it is
compared. Read for the page itself, for a shared link's page and for the tables' CSV."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from aggregator.reports.analytics import Question, SiteAnalytics, Summary, Table
from aggregator.reports.breakdowns import BREAKDOWNS
from aggregator.store.client import Store
from clearsignal.settings import SiteSettings

__all__ = ["ANALYTICS_PATH", "ROWS_SHOWN", "AnalyticsView", "asked", "read_analytics"]

ANALYTICS_PATH = "/admin/analytics"
ROWS_SHOWN = 10
CSV_ROWS = 10_000


@dataclass(frozen=True)
class AnalyticsView:
    site: SiteSettings
    question: Question
    compare: bool
    summary: Summary
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
    """The question and whether to compare, as a page's parameters name them."""
    return Question.parse(query, site, today), query.get("compare") == "previous"


def read_analytics(
    store: Store,
    site: SiteSettings,
    question: Question,
    compare: bool,
    clock: Callable[[], datetime],
    rows: int = ROWS_SHOWN,
    only: tuple[str, ...] | None = None,
) -> AnalyticsView:
    """Every table (or ``only`` those named) with up to ``rows`` rows."""
    analytics = SiteAnalytics(store, site, clock)
    answer = analytics.answer(question)
    names = list(BREAKDOWNS) if only is None else list(only)
    before = analytics.answer(Question(question.period.previous(), question.filters))
    return AnalyticsView(
        site=site,
        question=question,
        compare=compare,
        summary=answer.summary(),
        previous=before.summary() if compare else None,
        realtime=analytics.realtime(),
        tables={name: answer.table(name, rows) for name in names},
        previous_tables={name: before.table(name, CSV_ROWS) for name in names} if compare else {},
    )
