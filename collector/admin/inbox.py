"""``/admin/inbox``: the cases of a site's consenting customers, for its support agents.

Sorted by priority (``aggregator.cases.state``), filtered by rule and status, each row a
link to the case. Opening the list and opening a case are written to the admin action
log (``view_inbox``; ``view_case`` with the case and the customer's pseudonym), so the
privacy officer sees who looked at whom. The page has no script: every control is a link,
a button or a form field, reached with Tab; the case page adds access keys
(``collector.admin.case_page``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from aggregator.cases.desk import CaseDesk, CaseView
from aggregator.cases.state import OPEN, CaseStatus
from aggregator.signals.rules import rule
from clearsignal.clock import utc_now
from clearsignal.settings import SiteSettings
from collector.action_log import AdminAction
from collector.admin.guard import AdminContext
from collector.admin.pages import esc, select, table
from consent.pseudonyms import SiteKeys

__all__ = ["INBOX_PATH", "case_link", "desk_for", "inbox", "rule_title", "waited"]

INBOX_PATH = "/admin/inbox"
STATUS_CHOICES = {
    "open": ("open and contacted", OPEN),
    "new": ("open, nobody contacted yet", frozenset({CaseStatus.OPEN})),
    "contacted": ("contacted", frozenset({CaseStatus.CONTACTED})),
    "resolved": ("resolved", frozenset({CaseStatus.RESOLVED})),
    "dismissed": ("dismissed", frozenset({CaseStatus.DISMISSED})),
    "all": ("every case", None),
}


def desk_for(context: AdminContext, site: SiteSettings) -> CaseDesk:
    keys = SiteKeys(context.runtime.settings.site_key_dir)
    return CaseDesk(context.runtime.store, site, keys.key(site.id))


def rule_title(rule_id: str) -> str:
    found = rule(rule_id)
    return found.title if found else rule_id


def case_link(site: str, case_id: str) -> str:
    return f"{INBOX_PATH}/{site}/{case_id}"


def waited(since: datetime, now: datetime) -> str:
    """How long ago, in the largest whole unit: "3 h", "2 d"."""
    seconds = max(int((now - since).total_seconds()), 0)
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _row(site: str, view: CaseView, now: datetime) -> list[str]:
    state = view.state
    reference = (
        esc(view.reference) if view.reference else '<span class="suppressed">not yet known</span>'
    )
    return [
        f"{view.priority}" if state.is_open else "-",
        f'<a href="{esc(case_link(site, view.case_id))}">{esc(rule_title(state.record.rule_id))}</a>',
        reference,
        esc(state.status.value),
        esc(state.owner.removeprefix("admin:") or "-"),
        f"{waited(state.record.opened_at, now)} ago",
    ]


def _filters(context: AdminContext, site: SiteSettings, status: str, rule_id: str) -> str:
    sites = [(s.id, s.name or s.id) for s in context.sites()]
    rules = [("", "every rule")] + [(r, rule_title(r)) for r in sorted(site.response.actionable)]
    statuses = [(key, label) for key, (label, _) in STATUS_CHOICES.items()]
    return (
        f'<form method="get" action="{INBOX_PATH}" class="choose" aria-label="Filter the cases">'
        f"{select('Site', 'site', sites, site.id)}{select('Rule', 'rule', rules, rule_id)}"
        f"{select('Status', 'status', statuses, status)}"
        '<button type="submit" accesskey="f">Show</button></form>'
    )


async def inbox(context: AdminContext) -> Response:
    query = context.request.query_params
    site = context.site(query.get("site"))
    status = query.get("status", "open")
    if status not in STATUS_CHOICES:
        status = "open"
    rule_id = query.get("rule", "")
    if rule_id not in site.response.actionable:
        rule_id = ""
    now = utc_now()
    desk = desk_for(context, site)
    views = await run_in_threadpool(desk.inbox, now, STATUS_CHOICES[status][1], rule_id or None)
    await context.log(
        AdminAction.VIEW_INBOX,
        site=site.id,
        detail=urlencode({"status": status, "rule": rule_id, "cases": len(views)}),
    )
    rows = [_row(site.id, view, now) for view in views]
    headers = ["Priority", "Signal", "Customer", "Status", "Owner", "Opened"]
    target = site.response
    body = (
        '<p class="lead">Customers who allowed personalization and whose signals call for a '
        "person: reach them in your own systems by their reference, then record what you "
        f"did. The target: {target.target_share:.0%} resolved within "
        f"{target.target_hours} hours of opening.</p>"
        f"{_filters(context, site, status, rule_id)}"
        f"{table(f'Cases of {site.name or site.id}: {len(views)}', headers, rows, numeric=(0,))}"
    )
    return context.page("Inbox", body)
