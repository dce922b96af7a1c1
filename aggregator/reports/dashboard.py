"""What a site's dashboard shows, read from the published daily summaries only.

Every figure comes from ``site_summaries`` (k-anonymous aggregates, never a visitor's
row) and ``signal_validation`` through ``aggregator.signals.validation_report``. A suppressed
group has no number (``None`` here, "fewer than k" on the page), and sums over days
count only the days whose group was published (the page says "at least" and how many
days were hidden). A ratio (a funnel step to the one before, visitors with a signal per identified
visitor) is given only when no day of either group was hidden: a ratio over the published
days alone would leave out exactly the small days and lean towards the large ones.
Trends compare the last 7 days with the 7 before.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from aggregator.signals.effort import TASKS
from aggregator.signals.rules import RULES, SignalRule
from aggregator.signals.validation_report import RuleValidation, read_validation
from aggregator.store.client import Store
from clearsignal.settings import SiteSettings

__all__ = [
    "TREND_DAYS",
    "DayTotals",
    "EffortBucket",
    "FunnelStep",
    "HotSpot",
    "PeriodTotal",
    "Published",
    "RulePrevalence",
    "SiteDashboard",
    "funnel_steps",
    "published",
    "read_dashboard",
    "share_of_days",
]

TREND_DAYS = 7
HOT_SPOTS_SHOWN = 10
Published = dict[tuple[date, str, str], tuple[float, int] | None]  # None: suppressed


@dataclass(frozen=True)
class DayTotals:
    day: date
    visitors: int | None
    sessions: int | None
    pageviews: int | None


@dataclass(frozen=True)
class RulePrevalence:
    rule: SignalRule
    thresholds: dict[str, float]  # the rule's defaults with the site's overrides
    recent: float | None  # share of identified visitors with the signal, last 7 days
    recent_hidden_days: int  # days of the last 7 with a group of fewer than k
    previous: float | None  # the same, the 7 days before
    daily: list[float | None]  # per day of the period

    @property
    def trend(self) -> float | None:
        if self.recent is None or self.previous is None:
            return None
        return self.recent - self.previous


@dataclass(frozen=True)
class PeriodTotal:
    """A daily count summed over a period: ``published`` sums the days it was shown on;
    on ``hidden_days`` it was suppressed, so the whole is at least ``published``."""

    published: int
    hidden_days: int

    @property
    def complete(self) -> bool:
        return self.hidden_days == 0


@dataclass(frozen=True)
class FunnelStep:
    name: str
    reached: PeriodTotal  # visitor-days
    of_previous: float | None  # only when both steps are complete


@dataclass(frozen=True)
class HotSpot:
    kind: str  # rage_click | dead_click
    path: str
    selector: str
    clicks: int
    visitor_days: int


@dataclass(frozen=True)
class EffortBucket:
    """Tasks (``checkout`` or ``support_journey``) that took ``steps`` steps, in the period."""

    task: str
    steps: str  # 1, 2, 3, 4-5, 6-9, 10+
    tasks: PeriodTotal


EFFORT_STEPS = ("1", "2", "3", "4-5", "6-9", "10+")


@dataclass(frozen=True)
class SiteDashboard:
    site: SiteSettings
    days: list[date]
    totals: list[DayTotals]
    rules: list[RulePrevalence]
    funnel: list[FunnelStep]
    hot_spots: list[HotSpot]
    suppressed_hot_spots: int
    validation: list[RuleValidation]
    efforts: list[EffortBucket]

    @property
    def k(self) -> int:
        return self.site.k_anonymity


def published(store: Store, site: str, first: date, last: date) -> Published:
    rows = store.rows(
        "SELECT day, metric, dimension, value, visitors, suppressed FROM site_summaries FINAL "
        "WHERE site = {site:String} AND day >= {first:Date} AND day <= {last:Date}",
        {"site": site, "first": first, "last": last},
    )
    return {
        (day, str(metric), str(dimension)): None if suppressed else (float(value), int(visitors))
        for day, metric, dimension, value, visitors, suppressed in rows
    }


def _value(found: Published, day: date, metric: str, dimension: str = "") -> int | None:
    """The published number; 0 if nothing was counted; None if it was suppressed."""
    if (day, metric, dimension) not in found:
        return 0
    cell = found[(day, metric, dimension)]
    return None if cell is None else round(cell[0])


def _total(found: Published, days: list[date], metric: str, dimension: str = "") -> PeriodTotal:
    values = [_value(found, day, metric, dimension) for day in days]
    return PeriodTotal(sum(v for v in values if v is not None), sum(v is None for v in values))


def _hidden_days(found: Published, days: list[date], rule_id: str) -> int:
    return sum(
        _value(found, day, "identified_visitors") is None
        or _value(found, day, "signal_visitors", rule_id) is None
        for day in days
    )


def share_of_days(found: Published, days: list[date], rule_id: str) -> float | None:
    """Visitors with the signal per identified visitor, if every day of both is known."""
    if _hidden_days(found, days, rule_id):
        return None
    identified = _total(found, days, "identified_visitors").published
    with_signal = _total(found, days, "signal_visitors", rule_id).published
    return with_signal / identified if identified else None


def _rules(
    site: SiteSettings, found: Published, days: list[date], end: date
) -> list[RulePrevalence]:
    recent = [end - timedelta(days=n) for n in range(TREND_DAYS)]
    previous = [end - timedelta(days=TREND_DAYS + n) for n in range(TREND_DAYS)]
    return [
        RulePrevalence(
            rule=rule,
            thresholds=rule.thresholds | site.signal_thresholds.get(rule.id, {}),
            recent=share_of_days(found, recent, rule.id),
            recent_hidden_days=_hidden_days(found, recent, rule.id),
            previous=share_of_days(found, previous, rule.id),
            daily=[share_of_days(found, [day], rule.id) for day in days],
        )
        for rule in RULES
    ]


def funnel_steps(site: SiteSettings, found: Published, days: list[date]) -> list[FunnelStep]:
    groups = [("visitors", "", "visited")] + [
        ("funnel_reached", f"{n:02d} {name}", name) for n, name in enumerate(site.funnel, start=1)
    ]
    steps: list[FunnelStep] = []
    for metric, dimension, name in groups:
        reached = _total(found, days, metric, dimension)
        before = steps[-1].reached if steps else None
        ratio = None
        if before is not None and before.complete and reached.complete and before.published:
            ratio = reached.published / before.published
        steps.append(FunnelStep(name, reached, ratio))
    return steps


def _hot_spots(found: Published) -> tuple[list[HotSpot], int]:
    clicks: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    suppressed = 0
    for (_, metric, dimension), cell in found.items():
        if metric not in ("rage_click", "dead_click"):
            continue
        if cell is None:
            suppressed += 1
            continue
        clicks[(metric, dimension)][0] += round(cell[0])
        clicks[(metric, dimension)][1] += cell[1]
    spots = []
    for kind in ("rage_click", "dead_click"):
        ranked = sorted(
            ((dimension, n) for (k, dimension), n in clicks.items() if k == kind),
            key=lambda item: (-item[1][0], item[0]),
        )
        for dimension, (count, visitors) in ranked[:HOT_SPOTS_SHOWN]:
            path, _, selector = dimension.partition(" ")
            spots.append(HotSpot(kind, path, selector, count, visitors))
    return spots, suppressed


def read_dashboard(store: Store, site: SiteSettings, end: date, period_days: int) -> SiteDashboard:
    days = [end - timedelta(days=n) for n in range(period_days - 1, -1, -1)]
    first = min(days[0], end - timedelta(days=2 * TREND_DAYS - 1))
    found = published(store, site.id, first, end)
    in_period = {key: cell for key, cell in found.items() if key[0] >= days[0]}
    totals = [
        DayTotals(
            day,
            _value(found, day, "visitors"),
            _value(found, day, "sessions"),
            _value(found, day, "pageviews"),
        )
        for day in days
    ]
    spots, suppressed = _hot_spots(in_period)
    efforts = [
        EffortBucket(task, steps, _total(found, days, "effort", f"{task} {steps}"))
        for task in TASKS
        for steps in EFFORT_STEPS
    ]
    return SiteDashboard(
        site=site,
        days=days,
        totals=totals,
        rules=_rules(site, found, days, end),
        funnel=funnel_steps(site, in_period, days),
        hot_spots=spots,
        suppressed_hot_spots=suppressed,
        validation=read_validation(store, site.id),
        efforts=efforts,
    )
