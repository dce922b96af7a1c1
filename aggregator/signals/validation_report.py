"""The validation report as a dashboard reads it: rates, difference, Wilson intervals.

Read from ``signal_validation`` (written by ``aggregator.jobs.validation``). The
interval is the Wilson score interval (Wilson 1927) at 95%, which stays inside [0, 1] and
behaves with small counts and rates near 0 or 1, unlike the normal approximation.
Every figure describes an association between having a signal and reaching the goal
later, never its cause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from aggregator.signals.rules import RULES
from aggregator.store.client import Store

__all__ = ["Z_95", "RuleValidation", "read_validation", "wilson_interval"]

Z_95 = 1.959963984540054
LABEL = "association, not causation"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``trials``."""
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class RuleValidation:
    rule_id: str
    rule_version: int
    title: str
    goal: str
    period_start: datetime
    period_end: datetime
    suppressed: bool
    with_visitors: int
    with_goal: int
    without_visitors: int
    without_goal: int
    label: str = LABEL

    @property
    def with_rate(self) -> float | None:
        return self.with_goal / self.with_visitors if self.with_visitors else None

    @property
    def without_rate(self) -> float | None:
        return self.without_goal / self.without_visitors if self.without_visitors else None

    @property
    def difference(self) -> float | None:
        if self.with_rate is None or self.without_rate is None:
            return None
        return self.with_rate - self.without_rate

    @property
    def with_interval(self) -> tuple[float, float]:
        return wilson_interval(self.with_goal, self.with_visitors)

    @property
    def without_interval(self) -> tuple[float, float]:
        return wilson_interval(self.without_goal, self.without_visitors)


def read_validation(store: Store, site: str) -> list[RuleValidation]:
    """The latest report of each current rule version for ``site``."""
    titles = {rule.id: rule.title for rule in RULES}
    rows = store.rows(
        "SELECT rule_id, rule_version, argMax(goal, period_end), max(period_end), "
        "argMax(period_start, period_end), argMax(suppressed, period_end), "
        "argMax(with_visitors, period_end), argMax(with_goal, period_end), "
        "argMax(without_visitors, period_end), argMax(without_goal, period_end) "
        "FROM signal_validation FINAL WHERE site = {site:String} "
        "AND (rule_id, rule_version) IN {current:Array(Tuple(String, UInt16))} "
        "GROUP BY rule_id, rule_version ORDER BY rule_id",
        {"site": site, "current": [(rule.id, rule.version) for rule in RULES]},
    )
    return [
        RuleValidation(
            rule_id=str(rule_id),
            rule_version=int(version),
            title=titles.get(str(rule_id), str(rule_id)),
            goal=str(goal),
            period_start=start,
            period_end=end,
            suppressed=bool(suppressed),
            with_visitors=int(with_n),
            with_goal=int(with_goal),
            without_visitors=int(without_n),
            without_goal=int(without_goal),
        )
        for rule_id, version, goal, end, start, suppressed, with_n, with_goal, without_n, without_goal in rows
    ]
