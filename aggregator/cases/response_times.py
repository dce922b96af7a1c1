"""How fast and how well a site's team answers its cases, as the dashboard shows it.

Per case (``CaseState``): the time to the first response (the first ``contacted`` or
``resolved``) and to the resolution. A case is *due* once its target time
(``response.target_hours`` after opening) has passed or it was resolved; it is *in
target* when it was resolved within that time. Dismissed cases count as due and not in
target: the team closed them without helping.

Groups: every case opened in the period, each rule's cases, each ISO week's cases (weeks
start on Monday, by opening). A group counts the distinct customers it is about and is
k-anonymous like every figure on the dashboard: the whole is shown only with at least k
customers; rules and weeks are disjoint parts of it (``k_anonymity.partition``), so a
part under k is hidden and so is the smallest other part when the hidden ones together
would hold fewer than k (the whole minus the shown parts would give them away).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.cases.state import CaseState, CaseStatus
from aggregator.signals.k_anonymity import Group, partition

__all__ = ["ResponseFigures", "ResponseReport", "response_report"]


@dataclass(frozen=True)
class ResponseFigures:
    label: str
    customers: int
    cases: int
    due: int
    in_target: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    suppressed: bool = False

    @property
    def share(self) -> float | None:
        """The share of due cases resolved within the target; None before any is due."""
        return None if self.suppressed or self.due == 0 else self.in_target / self.due


@dataclass(frozen=True)
class ResponseReport:
    target: timedelta
    target_share: float
    k: int
    overall: ResponseFigures
    by_rule: list[ResponseFigures]
    by_week: list[ResponseFigures]


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _figures(
    label: str, cases: Sequence[CaseState], target: timedelta, now: datetime
) -> ResponseFigures:
    due = [
        c for c in cases if c.status == CaseStatus.RESOLVED or now - c.record.opened_at >= target
    ]
    in_target = [
        c for c in due if (resolution := c.resolution_time()) is not None and resolution <= target
    ]
    responses = [t for c in cases if (t := c.response_time()) is not None]
    resolutions = [t for c in cases if (t := c.resolution_time()) is not None]
    customers = len({c.record.customer_key for c in cases})
    return ResponseFigures(
        label, customers, len(cases), len(due), len(in_target), _median(responses),
        _median(resolutions),
    )  # fmt: skip


def _hidden(figures: ResponseFigures) -> ResponseFigures:
    return ResponseFigures(figures.label, 0, 0, 0, 0, None, None, suppressed=True)


def _parts(
    cases: Sequence[CaseState],
    key: Callable[[CaseState], str],
    target: timedelta,
    now: datetime,
    k: int,
) -> list[ResponseFigures]:
    grouped: dict[str, list[CaseState]] = {}
    for case in cases:
        grouped.setdefault(key(case), []).append(case)
    figures = [_figures(label, grouped[label], target, now) for label in sorted(grouped)]
    shown = partition([Group(f.label, f.customers, 0.0) for f in figures], k)
    return [f if not g.suppressed else _hidden(f) for f, g in zip(figures, shown, strict=True)]


def _week(case: CaseState) -> str:
    opened: date = case.record.opened_at.date()
    return (opened - timedelta(days=opened.weekday())).isoformat()


def response_report(
    states: Sequence[CaseState],
    now: datetime,
    since: datetime,
    target_hours: int,
    target_share: float,
    k: int,
) -> ResponseReport:
    """The figures of the cases opened from ``since`` on (see the module's docstring)."""
    target = timedelta(hours=target_hours)
    cases = [s for s in states if s.record.opened_at >= since]
    overall = _figures("all", cases, target, now)
    if overall.customers < k:
        return ResponseReport(target, target_share, k, _hidden(overall), [], [])
    by_rule = _parts(cases, lambda c: c.record.rule_id, target, now, k)
    by_week = _parts(cases, _week, target, now, k)
    return ResponseReport(target, target_share, k, overall, by_rule, by_week)
