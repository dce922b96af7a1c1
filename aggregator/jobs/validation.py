"""The validation job: do visitors with a signal later reach the goal more or less often?

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
from aggregator.signals.rules import RULES
from clearsignal.settings import SiteSettings

__all__ = ["PERIOD_DAYS", "ValidationJob", "ValidationRun"]

JOB = "signals.validate"
PERIOD_DAYS = 90
COLUMNS = (
    "site", "rule_id", "rule_version", "goal", "period_start", "period_end", "with_visitors",
    "with_goal", "without_visitors", "without_goal", "suppressed", "computed_at",
)  # fmt: skip


def _goal_condition(site: SiteSettings) -> str:
    step = "(type = 'step' AND name = {goal:String})"
    if site.goal != "purchase":
        return step
    return f"({step} OR (type = 'pageview' AND ({page_flag_sql(site.pages.purchase)})))"


def validation_sql(site: SiteSettings) -> str:
    period = (
        "site = {site:String} AND identity = 'analytics' "
        "AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {end:DateTime64(3, 'UTC')}"
    )
    return f"""
WITH cohort AS (
    SELECT visitor_key, min(ts) AS first_ts,
           groupArrayIf(ts, {_goal_condition(site)}) AS goals
    FROM events FINAL WHERE {period}
    GROUP BY visitor_key
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
    SELECT c.visitor_key, c.first_ts, c.goals, r AS rule_id,
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
        counts = {
            str(rule_id): tuple(int(n) for n in row)
            for rule_id, *row in self._store.rows(
                validation_sql(site),
                {
                    "site": site.id,
                    "start": start,
                    "end": end,
                    "goal": site.goal,
                    "rules": [rule.id for rule in RULES],
                },
            )
        }
        rows = []
        for rule in RULES:
            with_n, with_goal, without_n, without_goal = counts.get(rule.id, (0, 0, 0, 0))
            cells = (with_goal, with_n - with_goal, without_goal, without_n - without_goal)
            suppressed = any(0 < cell < site.k_anonymity for cell in cells)
            if suppressed:
                with_n = with_goal = without_n = without_goal = 0
            rows.append((
                site.id, rule.id, rule.version, site.goal, start, end, with_n, with_goal,
                without_n, without_goal, suppressed, end,
            ))  # fmt: skip
            run.rules += 1
            run.suppressed += suppressed
        self._store.insert("signal_validation", rows, COLUMNS)
