"""Did responding help? Per rule, the later outcome of customers whose case got a response
against those whose case did not: counts, rates with 95% Wilson intervals, k-suppressed.

The cohort: cases opened in the period whose target time has passed (the team had its
chance). *Responded*: the case was contacted or resolved at any time; *not responded*:
it never was (still open, or dismissed). The outcome is the one the validation report
relates the rule to (``touchpoint_rules.OUTCOMES``): a later cancellation (a subscription
cancelled, an order cancelled or refunded) or a later order, from the site's own systems,
for the customer; for a browser rule, the site's goal reached by the visitor. "Later"
means after the case opened.

This is an association, not an effect: teams choose whom to answer first (the most
valuable customers, the ones most likely to be saved), and customers who are reachable
differ from those who are not. A table with a non-empty cell of fewer than k customers
is not shown at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.cases.state import CaseState
from aggregator.signals.touchpoint_rules import OUTCOMES
from aggregator.signals.validation_report import wilson_interval
from aggregator.store.client import Store
from clearsignal.settings import SiteSettings

__all__ = ["CaseOutcome", "case_outcomes"]

_CANCELLED = (
    "(kind = 'subscription' AND action = 'cancelled') "
    "OR (kind = 'order' AND action IN ('cancelled', 'refunded'))"
)
_ORDERED = "kind = 'order' AND action = 'placed'"
_SYSTEMS_COLUMN = {"cancellation": 0, "order_placed": 1}
"""Which column of the one server-events read holds an outcome's times."""


@dataclass(frozen=True)
class CaseOutcome:
    rule_id: str
    outcome: str
    """``cancellation``, ``order_placed`` or the site's goal."""
    responded: int
    responded_outcome: int
    unanswered: int
    unanswered_outcome: int
    suppressed: bool = False

    def rate(self, answered: bool) -> tuple[float, float, float] | None:
        """(rate, low, high) of the outcome among the responded (or not) customers."""
        n, hits = (
            (self.responded, self.responded_outcome)
            if answered
            else (self.unanswered, self.unanswered_outcome)
        )
        if self.suppressed or n == 0:
            return None
        low, high = wilson_interval(hits, n)
        return hits / n, low, high

    @property
    def difference(self) -> float | None:
        answered, unanswered = self.rate(True), self.rate(False)
        if answered is None or unanswered is None:
            return None
        return answered[0] - unanswered[0]


def _times(
    store: Store, sql: str, site: SiteSettings, keys: list[str]
) -> dict[str, tuple[list[datetime], ...]]:
    """Key -> the times of each outcome column ``sql`` selects after the key."""
    if not keys:
        return {}
    rows = store.rows(sql, {"site": site.id, "keys": keys, "goal": site.goal})
    return {str(key): tuple(list(times) for times in columns) for key, *columns in rows}


def case_outcomes(
    store: Store,
    site: SiteSettings,
    goal_condition: str,
    cases: Sequence[CaseState],
    now: datetime,
    since: datetime,
) -> list[CaseOutcome]:
    """Per rule of the due cases opened from ``since`` on (``goal_condition``: the SQL
    condition of a goal event, ``aggregator.jobs.validation.goal_condition``, with its
    ``{goal:String}`` parameter)."""
    target = timedelta(hours=site.response.target_hours)
    due = [c for c in cases if since <= c.record.opened_at and now - c.record.opened_at >= target]
    customers = sorted({c.record.customer_key for c in due})
    visitors = sorted({c.record.visitor_key for c in due})
    # Per customer: (cancellations, orders); per visitor: (goals,).
    systems = _times(
        store,
        f"SELECT customer_key, groupArrayIf(ts, {_CANCELLED}), groupArrayIf(ts, {_ORDERED}) "
        "FROM server_events FINAL WHERE site = {site:String} "
        "AND customer_key IN {keys:Array(String)} GROUP BY customer_key",
        site,
        customers,
    )
    goals = _times(
        store,
        f"SELECT visitor_key, groupArrayIf(ts, {goal_condition}) FROM events FINAL "
        "WHERE site = {site:String} AND identity = 'analytics' "
        "AND visitor_key IN {keys:Array(String)} GROUP BY visitor_key",
        site,
        visitors,
    )
    found = []
    for rule_id in sorted({c.record.rule_id for c in due}):
        outcome = OUTCOMES.get(rule_id, site.goal)
        cells: dict[tuple[bool, bool], set[str]] = {}
        for case in (c for c in due if c.record.rule_id == rule_id):
            record = case.record
            if outcome in _SYSTEMS_COLUMN:
                found_times = systems.get(record.customer_key)
                times = found_times[_SYSTEMS_COLUMN[outcome]] if found_times else []
            else:
                times = goals.get(record.visitor_key, ([],))[0]
            happened = any(t > record.opened_at for t in times)
            answered = case.first_response_at is not None
            cells.setdefault((answered, happened), set()).add(record.customer_key)
        n = {key: len(members) for key, members in cells.items()}
        counts = [n.get((a, h), 0) for a in (True, False) for h in (True, False)]
        if any(0 < cell < site.k_anonymity for cell in counts):
            found.append(CaseOutcome(rule_id, outcome, 0, 0, 0, 0, suppressed=True))
            continue
        yes_hit, yes_miss, no_hit, no_miss = counts
        found.append(
            CaseOutcome(rule_id, outcome, yes_hit + yes_miss, yes_hit, no_hit + no_miss, no_hit)
        )
    return found
