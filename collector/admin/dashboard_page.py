"""``/admin/dashboard``: a site's aggregates, as charts and as the tables behind them.

Visitors and sessions per day, signal prevalence and its trend per rule (beside the
rule's definition), funnel drop-off per step, frustration hot spots and the validation
report. Everything on it comes from ``aggregator.reports.dashboard`` (published aggregates) and, for
the response to cases, ``collector.admin.response_section``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from aggregator.reports.dashboard import (
    TREND_DAYS,
    PeriodTotal,
    RulePrevalence,
    SiteDashboard,
    read_dashboard,
)
from aggregator.signals.effort import CHECKOUT, SUPPORT_JOURNEY
from clearsignal.clock import utc_now
from collector.action_log import AdminAction
from collector.admin.charts import Bar, Interval, Series, bar_chart, interval_chart, line_chart
from collector.admin.guard import AdminContext
from collector.admin.inbox import desk_for, rule_title
from collector.admin.pages import esc, fewer_than, select, table
from collector.admin.response_section import read_response, render_outcomes, render_response

__all__ = ["PERIODS", "dashboard"]

PERIODS = {"7": "last 7 days", "30": "last 30 days", "90": "last 90 days"}
HOT_SPOT_NAMES = {"rage_click": "Rage clicks", "dead_click": "Dead clicks"}


def _count(value: int | None, k: int) -> str:
    return fewer_than(k) if value is None else f"{value:,}"


def _percent(value: float | None, none: str = "no figure") -> str:
    return esc(none) if value is None else f"{value:.1%}"


def _points(value: float | None) -> str:
    return "no figure" if value is None else f"{value * 100:+.1f} points"


def _choose(context: AdminContext, site_id: str, period: str) -> str:
    sites = [(site.id, site.name or site.id) for site in context.sites()]
    return (
        '<form method="get" action="/admin/dashboard" class="choose">'
        f"{select('Site', 'site', sites, site_id)}"
        f"{select('Period', 'days', list(PERIODS.items()), period)}"
        '<button type="submit">Show</button></form>'
    )


def _traffic(view: SiteDashboard) -> str:
    chart = line_chart(
        "traffic", "Visitors and sessions per day", view.days,
        [Series("Visitors", [t.visitors for t in view.totals]),
         Series("Sessions", [t.sessions for t in view.totals])],
        "Count per day", view.k,
    )  # fmt: skip
    rows = [
        [f"{t.day:%Y-%m-%d}", _count(t.visitors, view.k), _count(t.sessions, view.k),
         _count(t.pageviews, view.k)]
        for t in reversed(view.totals)
    ]  # fmt: skip
    return (
        '<section aria-labelledby="traffic-h"><h2 id="traffic-h">Visitors and sessions</h2>'
        f"{chart}<details><summary>Visitors, sessions and page views per day as a table</summary>"
        f"{table('Per day (UTC)', ['Day', 'Visitors', 'Sessions', 'Page views'], rows, (1, 2, 3))}"
        "</details></section>"
    )


def _reached(total: PeriodTotal, k: int) -> str:
    if total.complete:
        return f"{total.published:,}"
    if not total.published:
        return fewer_than(k)
    return f"at least {total.published:,}"


def _prevalence(p: RulePrevalence, k: int) -> str:
    if p.recent is not None:
        return f"{p.recent:.1%} of identified visitors"
    if p.recent_hidden_days:
        return f"no figure: fewer than {k} on {p.recent_hidden_days} of {TREND_DAYS} days"
    return "no figure: no identified visitors"


def _signals(view: SiteDashboard) -> str:
    bars = [
        Bar(p.rule.title, p.recent, _percent(p.recent))
        if p.recent is not None or p.recent_hidden_days
        else Bar(p.rule.title, 0.0, "no identified visitors")
        for p in view.rules
    ]
    chart = bar_chart(
        "signals", "Share of identified visitors with each signal, last 7 days", bars,
        "Share of visitors with analytics consent", view.k,
    )  # fmt: skip
    cards = []
    for p in view.rules:
        thresholds = ", ".join(f"{name} = {value:g}" for name, value in p.thresholds.items())
        cards.append(
            f'<article class="rule" id="rule-{esc(p.rule.id)}"><h3>{esc(p.rule.title)}</h3>'
            f"<dl><dt>Rule</dt><dd><code>{esc(p.rule.id)}</code>, version {p.rule.version}, "
            f"over {p.rule.window_days} day(s)</dd><dt>Thresholds</dt><dd>{esc(thresholds)}</dd>"
            f"<dt>Why it matters</dt><dd>{esc(p.rule.why)}</dd>"
            f"<dt>What the site may do</dt><dd>{esc(p.rule.may_do)}</dd>"
            f"<dt>Last 7 days</dt><dd>{esc(_prevalence(p, view.k))}</dd>"
            f"<dt>The 7 days before</dt><dd>{_percent(p.previous)}</dd>"
            f"<dt>Trend</dt><dd>{_points(p.trend)}</dd></dl></article>"
        )
    return (
        '<section aria-labelledby="signals-h"><h2 id="signals-h">Signals</h2>'
        "<p>Each signal is a hypothesis about what a behaviour means, found only for visitors "
        "who allowed analytics. A share counts visitors with the signal per identified "
        f"visitor, and is given only when no day of the week had a group of fewer than {view.k} "
        f"visitors (such groups are not published).</p>{chart}{''.join(cards)}</section>"
    )


def _funnel(view: SiteDashboard) -> str:
    bars = [
        Bar(s.name, s.reached.published if s.reached.published or s.reached.complete else None,
            _reached(s.reached, view.k))
        for s in view.funnel
    ]  # fmt: skip
    chart = bar_chart("funnel", "Visitors reaching each funnel step", bars, "Visitor-days", view.k)
    rows = [
        [esc(s.name), _reached(s.reached, view.k), _percent(s.of_previous, "—"),
         _percent(None if s.of_previous is None else 1 - s.of_previous, "—"),
         str(s.reached.hidden_days)]
        for s in view.funnel
    ]  # fmt: skip
    headers = ["Step", "Reached (visitor-days)", "Of the step before", "Drop-off", "Days hidden"]
    return (
        '<section aria-labelledby="funnel-h"><h2 id="funnel-h">Funnel</h2>'
        "<p>Visitors who reached each step in order within a day, summed over the days. "
        f"On a day hidden for a step, fewer than {view.k} visitors (or a number that would "
        "reveal such a group) reached it; rates are given only for steps with no hidden day.</p>"
        f"{chart}{table('Funnel steps over the period', headers, rows, (1, 2, 3, 4))}</section>"
    )


def _hot_spots(view: SiteDashboard) -> str:
    parts = []
    for kind, name in HOT_SPOT_NAMES.items():
        spots = [s for s in view.hot_spots if s.kind == kind]
        parts.append(f"<h3>{name}</h3>")
        if not spots:
            parts.append(f"<p>No page and element had {view.k} or more such visitors on a day.</p>")
            continue
        bars = [Bar(f"{s.path} {s.selector}", s.clicks, f"{s.clicks:,} clicks") for s in spots]
        parts.append(
            bar_chart(f"spots-{kind}", f"{name} by page and element", bars, "Clicks", view.k)
        )
        rows = [
            [esc(s.path), f"<code>{esc(s.selector)}</code>", f"{s.clicks:,}", f"{s.visitor_days:,}"]
            for s in spots
        ]
        headers = ["Page", "Element", "Clicks", "Visitor-days"]
        parts.append(table(f"{name}: most clicked elements", headers, rows, (2, 3)))
    hidden = view.suppressed_hot_spots
    note = (
        f"<p>{hidden} page-and-element groups of a day had fewer than {view.k} visitors and "
        "are not shown.</p>"
        if hidden
        else ""
    )
    return (
        '<section aria-labelledby="spots-h"><h2 id="spots-h">Frustration hot spots</h2>'
        f"{note}{''.join(parts)}</section>"
    )


def _interval(low_high: tuple[float, float]) -> str:
    return f"{low_high[0]:.1%} to {low_high[1]:.1%}"


def _validation(view: SiteDashboard) -> str:
    shown = [v for v in view.validation if not v.suppressed]
    intervals = []
    for v in shown:
        intervals.append(Interval(f"{v.title}: with", v.with_rate, *v.with_interval))
        intervals.append(Interval(f"{v.title}: without", v.without_rate, *v.without_interval))
    chart = interval_chart(
        "validation", "Goal rate with and without each signal (95% intervals)", intervals,
        "Share of visitors who later reached the goal",
    )  # fmt: skip
    rows = [
        [
            esc(v.title),
            f"<code>{esc(v.goal)}</code>",
            f"{v.period_start:%Y-%m-%d} to {v.period_end:%Y-%m-%d}",
        ]
        + (
            [fewer_than(view.k)] * 3
            if v.suppressed
            else [
                f"{_percent(v.with_rate)} ({_interval(v.with_interval)}) of {v.with_visitors:,}",
                f"{_percent(v.without_rate)} ({_interval(v.without_interval)}) of {v.without_visitors:,}",
                _points(v.difference),
            ]
        )
        + [esc(v.label)]
        for v in view.validation
    ]
    headers = [
        "Rule",
        "Goal",
        "Period",
        "Goal rate with the signal",
        "Goal rate without",
        "Difference",
        "Reading",
    ]
    return (
        '<section aria-labelledby="validation-h"><h2 id="validation-h">Validation</h2>'
        f"<p>Whether visitors with a signal later reached the goal (the site's: "
        f"<code>{esc(view.site.goal)}</code>; for the rules over the site's own systems a "
        "later <code>cancellation</code> or <code>order_placed</code>) more or less often "
        "than visitors without it: an association, not causation. Intervals are 95% Wilson "
        "score intervals.</p>"
        f"{chart if shown else ''}{table('Validation report', headers, rows)}</section>"
    )


_TASKS = {
    CHECKOUT: (
        "Checkouts",
        "Checkouts (the steps of a visit through the site's funnel, up to its last) by the "
        "steps they took: each funnel step, one more for going back to an earlier step and "
        "for each rage or dead click on the way. Going straight through takes as many steps "
        "as the funnel.",
    ),
    SUPPORT_JOURNEY: (
        "Support journeys",
        "Support journeys (a customer's ticket, from the site's systems: docs/api.md) by the "
        "steps they took: contacts, escalations, reopenings, complaints, missed commitments "
        "and handovers.",
    ),
}


def _effort_of(view: SiteDashboard, task: str) -> str:
    buckets = [b for b in view.efforts if b.task == task]
    name, about = _TASKS[task]
    if not any(b.tasks.published or b.tasks.hidden_days for b in buckets):
        return f"<h3>{name}</h3><p>{about} None ended in the period.</p>"
    bars = [
        Bar(f"{b.steps} steps", b.tasks.published if b.tasks.complete else None,
            f"{b.tasks.published:,} {name.lower()}")
        for b in buckets
    ]  # fmt: skip
    rows = [
        [esc(b.steps), f"{b.tasks.published:,}" if b.tasks.complete
         else f"at least {b.tasks.published:,} ({b.tasks.hidden_days} days hidden)"]
        for b in buckets
    ]  # fmt: skip
    title = f"{name} by steps taken"
    return (
        f"<h3>{name}</h3><p>{about}</p>"
        f"{bar_chart(f'effort-{task}', title, bars, name, view.k)}"
        f"{table(title, ['Steps', name], rows, (1,))}"
    )


def _efforts(view: SiteDashboard) -> str:
    """The customer effort distribution per task (what the high_effort rule compares each
    checkout and each support journey with)."""
    return (
        '<section aria-labelledby="effort-h"><h2 id="effort-h">Customer effort</h2>'
        "<p>How many steps customers' tasks took, every visitor's (the <code>high_effort</code> "
        "signal compares a consenting visitor's task with the median of those visitors' "
        "tasks). A day's group of fewer than "
        f"{view.k} customers is not shown.</p>"
        f"{''.join(_effort_of(view, task) for task in _TASKS)}</section>"
    )


def render_dashboard(view: SiteDashboard) -> str:
    return (
        f'<p class="lead">{esc(view.site.name or view.site.id)}: {view.days[0]:%d %B %Y} to '
        f"{view.days[-1]:%d %B %Y} (UTC). Aggregates only; groups of fewer than {view.k} "
        f"visitors are shown as “fewer than {view.k}”.</p>"
        f"{_traffic(view)}{_signals(view)}{_funnel(view)}{_hot_spots(view)}{_efforts(view)}"
        f"{_validation(view)}"
    )


async def dashboard(context: AdminContext) -> Response:
    query = context.request.query_params
    site = context.site(query.get("site"))
    period = query.get("days", "30")
    if period not in PERIODS:
        period = "30"
    today = datetime.fromtimestamp(context.runtime.clock(), UTC).date()
    view = await run_in_threadpool(read_dashboard, context.runtime.store, site, today, int(period))
    response, outcomes = await run_in_threadpool(
        read_response, desk_for(context, site), utc_now(), int(period)
    )
    await context.log(AdminAction.VIEW_DASHBOARD, site=site.id, detail=f"{period} days")
    titles = {rule_id: rule_title(rule_id) for rule_id in site.response.actionable}
    body = (
        _choose(context, site.id, period)
        + render_dashboard(view)
        + render_response(response, titles)
        + render_outcomes(outcomes, titles, site.k_anonymity)
    )
    return context.page(f"Dashboard: {site.name or site.id}", body)
