"""When to tell a site's team that something moved: a signal's prevalence, a funnel step's
conversion, or the share of cases resolved in time.

The method, over published (k-anonymous) daily aggregates only
(``aggregator.reports.dashboard``): the *current* figure covers the last seven full days;
the *baseline* is the same figure over each of the four seven-day blocks before, of which
at least three must be known (no day suppressed). With μ and σ the baseline's mean and
standard deviation:

- **signal rise**: the share of identified visitors with a rule's signal is at least
  μ + max(3σ, 2 points); or, when the site set ``response.alert_thresholds[rule]``, at
  least that share (a threshold needs no baseline);
- **funnel drop**: a step's conversion from the step before is at most μ − max(3σ,
  5 points);
- **resolution below target**: of the cases opened in the last seven days that are due,
  the share resolved in time is under ``response.target_share`` (shown only with at least
  k customers, as on the dashboard).

Each alert has a key (its kind, subject and the last day it covers), so it is sent once;
``notifications`` keeps what was sent.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.cases.desk import CaseDesk
from aggregator.cases.response_times import response_report
from aggregator.reports.dashboard import Published, funnel_steps, published, share_of_days
from aggregator.signals.rules import RULES

__all__ = ["BASELINE_BLOCKS", "BLOCK_DAYS", "Alert", "site_alerts"]

BLOCK_DAYS, BASELINE_BLOCKS, KNOWN_BLOCKS = 7, 4, 3
SIGMAS, MIN_RISE, MIN_DROP = 3.0, 0.02, 0.05


@dataclass(frozen=True)
class Alert:
    kind: str
    """``signal_rise``, ``funnel_drop`` or ``resolution_below_target``."""
    subject: str
    """The rule, the funnel step, or ``cases``."""
    last_day: date
    value: float
    limit: float
    baseline: float | None
    text: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}:{self.last_day.isoformat()}"

    def document(self, site: str) -> dict[str, object]:
        """The webhook body: ``text`` for chat tools, the figures for machines."""
        return {
            "text": self.text,
            "alert": {
                "site": site, "kind": self.kind, "subject": self.subject, "key": self.key,
                "last_day": self.last_day.isoformat(), "value": self.value,
                "limit": self.limit, "baseline": self.baseline,
            },
        }  # fmt: skip


def _blocks(last: date) -> list[list[date]]:
    """The current block first, then the baseline blocks, each of ``BLOCK_DAYS`` days."""
    return [
        [last - timedelta(days=BLOCK_DAYS * block + n) for n in range(BLOCK_DAYS)]
        for block in range(BASELINE_BLOCKS + 1)
    ]


def _baseline(values: list[float | None]) -> tuple[float, float] | None:
    known = [v for v in values if v is not None]
    if len(known) < KNOWN_BLOCKS:
        return None
    return statistics.fmean(known), statistics.pstdev(known)


def _signal_rises(desk: CaseDesk, found: Published, blocks: list[list[date]]) -> list[Alert]:
    site = desk.site
    alerts = []
    for rule in RULES:
        shares = [share_of_days(found, block, rule.id) for block in blocks]
        now = shares[0]
        if now is None:
            continue
        fixed = site.response.alert_thresholds.get(rule.id)
        baseline = _baseline(shares[1:])
        if fixed is not None:
            limit = fixed
        elif baseline is not None:
            limit = baseline[0] + max(SIGMAS * baseline[1], MIN_RISE)
        else:
            continue
        if now >= limit and now > 0:
            mean = baseline[0] if baseline else None
            was = "" if mean is None else f", against {mean:.1%} in the four weeks before"
            text = (
                f"{site.name or site.id}: {rule.title} rose to {now:.1%} of identified "
                f"visitors in the seven days to {blocks[0][0].isoformat()}{was}."
            )
            alerts.append(Alert("signal_rise", rule.id, blocks[0][0], now, limit, mean, text))
    return alerts


def _funnel_drops(desk: CaseDesk, found: Published, blocks: list[list[date]]) -> list[Alert]:
    site = desk.site
    per_block = [funnel_steps(site, found, block) for block in blocks]
    alerts = []
    for index, step in enumerate(per_block[0]):
        now = step.of_previous
        baseline = _baseline([steps[index].of_previous for steps in per_block[1:]])
        if now is None or baseline is None:
            continue
        limit = baseline[0] - max(SIGMAS * baseline[1], MIN_DROP)
        if now <= limit:
            text = (
                f"{site.name or site.id}: of the visitors who reached the step before, "
                f"{now:.0%} reached '{step.name}' in the seven days to "
                f"{blocks[0][0].isoformat()}, against {baseline[0]:.0%} in the four weeks before."
            )
            alerts.append(
                Alert("funnel_drop", step.name, blocks[0][0], now, limit, baseline[0], text)
            )
    return alerts


def _resolution(desk: CaseDesk, now: datetime, last: date) -> list[Alert]:
    site = desk.site
    target = site.response
    report = response_report(
        desk.book.states(site.id), now, now - timedelta(days=BLOCK_DAYS), target.target_hours,
        target.target_share, site.k_anonymity,
    )  # fmt: skip
    share = report.overall.share
    if share is None or share >= target.target_share:
        return []
    text = (
        f"{site.name or site.id}: {share:.0%} of the {report.overall.due} due cases opened in "
        f"the last seven days were resolved within {target.target_hours} h; the target is "
        f"{target.target_share:.0%}."
    )
    return [Alert("resolution_below_target", "cases", last, share, target.target_share, None, text)]


def site_alerts(desk: CaseDesk, now: datetime) -> list[Alert]:
    """Every alert of the site as of ``now`` (the last full day is yesterday, UTC)."""
    last = now.date() - timedelta(days=1)
    blocks = _blocks(last)
    found = published(desk.store, desk.site.id, blocks[-1][-1], last)
    checks: list[Callable[[], list[Alert]]] = [
        lambda: _signal_rises(desk, found, blocks),
        lambda: _funnel_drops(desk, found, blocks),
        lambda: _resolution(desk, now, last),
    ]
    return [alert for check in checks for alert in check()]
