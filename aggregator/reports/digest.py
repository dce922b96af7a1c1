"""The weekly digest of a site, as plain text for e-mail: the week's visitors, the signals
most present and how they moved, the cases open and overdue, and how many were resolved
in time. Every figure is one the dashboard shows, with the same k rule: the published
daily aggregates (``aggregator.reports.dashboard``) and the response figures
(``aggregator.cases.response_times``); a count of cases under k reads "fewer than k".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.cases.desk import CaseDesk
from aggregator.cases.response_times import response_report
from aggregator.reports.dashboard import TREND_DAYS, read_dashboard
from clearsignal.settings import SiteSettings

__all__ = ["TOP_SIGNALS", "Digest", "compose_digest", "digest_key", "week_of"]

TOP_SIGNALS = 5


@dataclass(frozen=True)
class Digest:
    key: str
    """The week it covers, by its first day: sent once per site and week."""
    subject: str
    text: str


def week_of(today: date) -> date:
    """The first day of the seven days before ``today``."""
    return today - timedelta(days=TREND_DAYS)


def digest_key(now: datetime) -> str:
    """The key of the digest sent at ``now``: the first day of the week it covers."""
    return week_of(now.date()).isoformat()


def _count(value: int, k: int) -> str:
    return f"fewer than {k}" if 0 < value < k else f"{value:,}"


def compose_digest(desk: CaseDesk, now: datetime) -> Digest:
    site: SiteSettings = desk.site
    k = site.k_anonymity
    yesterday = now.date() - timedelta(days=1)
    first = week_of(now.date())
    view = read_dashboard(desk.store, site, yesterday, TREND_DAYS)
    visitors = [t.visitors for t in view.totals]
    shown = sum(v for v in visitors if v is not None)
    hidden = sum(v is None for v in visitors)
    lines = [
        f"ClearSignal: the week of {first.isoformat()} on {site.name or site.id}",
        "",
        f"Visitors: {'at least ' if hidden else ''}{shown:,}"
        + (f" ({hidden} days had fewer than {k} and are not counted)" if hidden else ""),
        "",
        "Signals most present (share of identified visitors, change from the week before):",
    ]
    ranked = sorted(
        (r for r in view.rules if r.recent is not None), key=lambda r: -(r.recent or 0.0)
    )[:TOP_SIGNALS]
    for rule in ranked:
        trend = "" if rule.trend is None else f", {rule.trend * 100:+.1f} points"
        lines.append(f"  {rule.rule.title}: {(rule.recent or 0.0):.1%}{trend}")
    if not ranked:
        lines.append(f"  none to show (no signal reached {k} visitors on every day)")
    states = desk.book.states(site.id)
    target = timedelta(hours=site.response.target_hours)
    open_cases = [s for s in states if s.is_open]
    overdue = [s for s in open_cases if now - s.record.opened_at > target]
    report = response_report(
        states, now, now - timedelta(days=TREND_DAYS), site.response.target_hours,
        site.response.target_share, k,
    )  # fmt: skip
    share = report.overall.share
    resolved = (
        f"fewer than {k} customers had a case"
        if report.overall.suppressed
        else "no case was due yet"
        if share is None
        else f"{share:.0%} of {report.overall.due:,} due cases resolved within "
        f"{site.response.target_hours} h (target {site.response.target_share:.0%})"
    )
    lines += [
        "",
        f"Cases open: {_count(len(open_cases), k)}; overdue (open for more than "
        f"{site.response.target_hours} h): {_count(len(overdue), k)}",
        f"This week's cases: {resolved}",
        "",
        "The inbox: /admin/inbox. The dashboard: /admin/dashboard.",
    ]
    subject = f"ClearSignal weekly digest: {site.name or site.id}, week of {first.isoformat()}"
    return Digest(digest_key(now), subject, "\n".join(lines) + "\n")
