"""The dashboard's "Response to cases" section: how fast the team answers the cases of
consenting customers, against the site's target, k-anonymous
(``aggregator.cases.response_times``): per rule, per week opened, and overall."""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregator.cases.desk import CaseDesk
from aggregator.cases.outcomes import CaseOutcome, case_outcomes
from aggregator.cases.response_times import ResponseFigures, ResponseReport, response_report
from aggregator.jobs.validation import goal_condition
from collector.admin.charts import Bar, bar_chart
from collector.admin.pages import esc, fewer_than, table

__all__ = ["read_response", "render_outcomes", "render_response"]


def read_response(
    desk: CaseDesk, now: datetime, days: int
) -> tuple[ResponseReport, list[CaseOutcome]]:
    site = desk.site
    states = desk.book.states(site.id)
    since = now - timedelta(days=days)
    target = site.response
    report = response_report(
        states, now, since, target.target_hours, target.target_share, site.k_anonymity
    )
    outcomes = case_outcomes(desk.store, site, goal_condition(site), states, now, since)
    return report, outcomes


def _hours(value: timedelta | None) -> str:
    if value is None:
        return "no figure"
    hours = value.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _row(figures: ResponseFigures, label: str, k: int) -> list[str]:
    if figures.suppressed:
        return [esc(label), fewer_than(k), "", "", "", ""]
    share = figures.share
    return [
        esc(label),
        f"{figures.customers:,}",
        f"{figures.cases:,}",
        "not yet due" if share is None else f"{share:.0%} of {figures.due:,}",
        esc(_hours(figures.median_first_response)),
        esc(_hours(figures.median_resolution)),
    ]


def render_response(report: ResponseReport, titles: dict[str, str]) -> str:
    target = f"{report.target_share:.0%} within {report.target.total_seconds() / 3600:.0f} h"
    overall = report.overall
    if overall.suppressed:
        return (
            f"<h2>Response to cases</h2><p>Fewer than {report.k} customers had a case in this "
            f"period: nothing is shown. The target: {esc(target)}.</p>"
        )
    share = overall.share
    verdict = (
        "no case is due yet"
        if share is None
        else f"{share:.0%} resolved in time: "
        + ("on target" if share >= report.target_share else "below target")
    )
    headers = ["", "Customers", "Cases", "Resolved in time", "First response (median)",
               "Resolution (median)"]  # fmt: skip
    rule_rows = [_row(f, titles.get(f.label, f.label), report.k) for f in report.by_rule]
    week_rows = [_row(f, f"week of {f.label}", report.k) for f in report.by_week]
    bars = [
        Bar(
            f"week of {f.label}",
            None if f.share is None else f.share * 100,
            "fewer than k"
            if f.suppressed
            else ("not due" if f.share is None else f"{f.share:.0%}"),
        )
        for f in report.by_week
    ]
    return (
        '<h2 id="response">Response to cases</h2>'
        f"<p>Target: {esc(target)} of opening. This period: {esc(verdict)}.</p>"
        f"{table('Overall', headers, [_row(overall, 'All cases', report.k)], numeric=(1, 2))}"
        f"{table('By signal', headers, rule_rows, numeric=(1, 2))}"
        f"{bar_chart('response-weeks', 'Share resolved in time, by week opened', bars, 'percent', report.k)}"
        f"{table('By week opened', headers, week_rows, numeric=(1, 2))}"
    )


_OUTCOME_WORDS = {"cancellation": "cancelled later", "order_placed": "ordered later"}


def _rate(found: tuple[float, float, float] | None, n: int) -> str:
    if found is None:
        return "no figure"
    rate, low, high = found
    return f"{rate:.0%} of {n:,} ({low:.0%} to {high:.0%})"


def render_outcomes(outcomes: list[CaseOutcome], titles: dict[str, str], k: int) -> str:
    rows = []
    for item in outcomes:
        label = esc(titles.get(item.rule_id, item.rule_id))
        words = esc(_OUTCOME_WORDS.get(item.outcome, f"reached {item.outcome} later"))
        if item.suppressed:
            rows.append([label, words, fewer_than(k), "", ""])
            continue
        difference = item.difference
        rows.append([
            label, words, esc(_rate(item.rate(True), item.responded)),
            esc(_rate(item.rate(False), item.unanswered)),
            "no figure" if difference is None else f"{difference * 100:+.1f} points",
        ])  # fmt: skip
    headers = ["Signal", "Outcome", "Answered (95% interval)", "Not answered (95% interval)",
               "Difference"]  # fmt: skip
    return (
        "<h3>Did answering help?</h3>"
        "<p>Customers whose case was answered (contacted or resolved) against those whose "
        "case was not, and how many later had the outcome. An association, not an effect: "
        "teams choose whom to answer first, and customers who can be reached differ from "
        f"those who cannot. A table with a cell of fewer than {k} customers is not shown.</p>"
        f"{table('Outcome after a case', headers, rows)}"
    )
