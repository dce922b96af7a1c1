"""The validation job: do visitors with a signal later reach the goal more or less often?

The rules over the site's own systems are related to an outcome of their own instead of
the site's goal (``touchpoint_rules.OUTCOMES``): a later cancellation, or (purchase
decline) a later order, among the linked customers with server events in the period.

Seed hypotheses must be validated, not assumed. Per site and rule, over the period of the
site's retention (capped at 90 days) that ends at the start of today (UTC):

- the cohort: visitors with analytics consent and events in the period;
- *with* the signal: cohort members with a finding of the rule in the period; they count
  as reaching the goal when a goal event follows the end of their first finding;
- *without*: the rest of the cohort; they count when a goal event follows their first
  event of the period.

A goal event is a ``step`` event named as the site's ``goal`` or, for the goal
``purchase``, a view of a purchase page. One query per site computes all rules inside
ClickHouse. The 2x2 table is stored whole, or suppressed (zero counts) when a non-empty
cell holds fewer than k visitors. ``aggregator.signals.validation_report`` turns it into rates,
a difference and 95% Wilson intervals, labelled as an association.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.jobs.base import StoreJob
from aggregator.jobs.progress import SILENT, Progress
from aggregator.jobs.signals import page_flag_sql
from aggregator.signals.rules import BROWSER_RULES
from aggregator.signals.touchpoint_rules import OUTCOMES, TOUCHPOINT_RULES
from clearsignal.settings import SiteSettings

__all__ = ["PERIOD_DAYS", "ValidationJob", "ValidationRun", "goal_condition"]

JOB = "signals.validate"
PERIOD_DAYS = 90
COLUMNS = (
    "site", "rule_id", "rule_version", "goal", "period_start", "period_end", "with_visitors",
    "with_goal", "without_visitors", "without_goal", "suppressed", "computed_at",
)  # fmt: skip


def goal_condition(site: SiteSettings) -> str:
    """The SQL condition, on an ``events`` row, of a goal event of ``site`` (with a
    ``{goal:String}`` parameter)."""
    step = "(type = 'step' AND name = {goal:String})"
    if site.goal != "purchase":
        return step
    return f"({step} OR (type = 'pageview' AND ({page_flag_sql(site.pages.purchase)})))"


_PERIOD = "ts >= {start:DateTime64(3, 'UTC')} AND ts < {end:DateTime64(3, 'UTC')}"


def validation_sql(site: SiteSettings) -> str:
    """The browser rules: the cohort is the consented visitors with events in the period,
    the goal the site's."""
    return _table_sql(f"""
    SELECT visitor_key, min(ts) AS first_ts,
           groupArrayIf(ts, {goal_condition(site)}) AS goals
    FROM events FINAL
    WHERE site = {{site:String}} AND identity = 'analytics' AND {_PERIOD}
    GROUP BY visitor_key""")


def touchpoint_validation_sql() -> str:
    """The rules over the site's systems: the cohort is the linked customers with server
    events in the period; the outcome is each rule's (``OUTCOMES``): a later cancellation
    (a subscription cancelled, an order cancelled or refunded), or a later order."""
    cancelled = (
        "(kind = 'subscription' AND action = 'cancelled') "
        "OR (kind = 'order' AND action IN ('cancelled', 'refunded'))"
    )
    return _table_sql(
        f"""
    SELECT visitor_key, min(ts) AS first_ts,
           groupArrayIf(ts, {cancelled}) AS cancellations,
           groupArrayIf(ts, kind = 'order' AND action = 'placed') AS orders
    FROM server_events FINAL
    WHERE site = {{site:String}} AND visitor_key != '' AND {_PERIOD}
    GROUP BY visitor_key""",
        "if(r IN {ordering:Array(String)}, c.orders, c.cancellations)",
    )


def _table_sql(cohort: str, goals: str = "c.goals") -> str:
    """Per rule: visitors of ``cohort`` with and without a finding, and how many of each
    reached a goal (``goals``: their goal times) after it."""
    return f"""
WITH cohort AS ({cohort}
),
found AS (
    SELECT visitor_key, rule_id, min(window_end) AS first_end
    FROM signals FINAL
    WHERE site = {{site:String}} AND window_end >= {{start:DateTime64(3, 'UTC')}}
      AND window_end < {{end:DateTime64(3, 'UTC')}}
    GROUP BY visitor_key, rule_id
)
SELECT rule_id,
       countIf(has_signal) AS with_visitors,
       countIf(has_signal AND arrayExists(g -> g > first_end, goals)) AS with_goal,
       countIf(NOT has_signal) AS without_visitors,
       countIf(NOT has_signal AND arrayExists(g -> g >= first_ts, goals)) AS without_goal
FROM (
    SELECT c.visitor_key, c.first_ts, {goals} AS goals, r AS rule_id,
           f.visitor_key != '' AS has_signal, f.first_end
    FROM cohort AS c
    ARRAY JOIN {{rules:Array(String)}} AS r
    LEFT JOIN found AS f ON f.visitor_key = c.visitor_key AND f.rule_id = r
)
GROUP BY rule_id
"""


@dataclass
class ValidationRun:
    sites: int = 0
    rules: int = 0
    suppressed: int = 0


class ValidationJob(StoreJob):
    def run_once(self, progress: Progress = SILENT) -> ValidationRun:
        with self._lock:
            run = ValidationRun()
            progress.begin(len(self._settings.sites), JOB)
            for site in self._settings.sites:
                self._validate(site, run)
                run.sites += 1
                progress.advance(site.id)
            return run

    def _validate(self, site: SiteSettings, run: ValidationRun) -> None:
        now = self._clock()
        end = datetime(now.year, now.month, now.day, tzinfo=UTC)
        start = end - timedelta(days=min(site.retention_days, PERIOD_DAYS))
        period = {"site": site.id, "start": start, "end": end}
        ordering = [rule for rule, outcome in OUTCOMES.items() if outcome == "order_placed"]
        counts: dict[str, tuple[int, ...]] = {}
        for sql, parameters, rules in (
            (validation_sql(site), {"goal": site.goal}, BROWSER_RULES),
            (touchpoint_validation_sql(), {"ordering": ordering}, TOUCHPOINT_RULES),
        ):
            for rule_id, *row in self._store.rows(
                sql, period | parameters | {"rules": [rule.id for rule in rules]}
            ):
                counts[str(rule_id)] = tuple(int(n) for n in row)
        rows = []
        for rule in (*BROWSER_RULES, *TOUCHPOINT_RULES):
            goal = OUTCOMES.get(rule.id, site.goal)
            with_n, with_goal, without_n, without_goal = counts.get(rule.id, (0, 0, 0, 0))
            cells = (with_goal, with_n - with_goal, without_goal, without_n - without_goal)
            suppressed = any(0 < cell < site.k_anonymity for cell in cells)
            if suppressed:
                with_n = with_goal = without_n = without_goal = 0
            rows.append((
                site.id, rule.id, rule.version, goal, start, end, with_n, with_goal,
                without_n, without_goal, suppressed, end,
            ))  # fmt: skip
            run.rules += 1
            run.suppressed += suppressed
        self._store.insert("signal_validation", rows, COLUMNS)
