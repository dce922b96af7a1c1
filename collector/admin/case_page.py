"""``/admin/inbox/{site}/{case_id}``: one case, and what an agent does with it.

The page shows who to reach (the customer's own reference), what was found and why it
matters (the finding as the customer reads it on /me), the case's status, owner and
history with notes, and a form per step: claim or release, mark contacted, resolved or
dismissed, reopen, add a note. Each step is a POST with the session's CSRF token, written
to the case (``aggregator.cases``) and to the admin action log; the answer redirects
back to the case. Access keys: a claim, t contacted, r resolved, d dismiss, e note,
j the next case in the inbox, k the previous one.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from aggregator.cases.book import CaseRefused
from aggregator.cases.desk import CaseView
from aggregator.cases.state import OPEN, Action, CaseStatus
from clearsignal.clock import utc_now, wire_time
from collector.action_log import AdminAction
from collector.admin.guard import SECURITY_HEADERS, AdminContext
from collector.admin.inbox import INBOX_PATH, case_link, desk_for, rule_title, waited
from collector.admin.pages import esc, hidden, table
from collector.errors import PageRefused

__all__ = ["act_on_case", "case_page"]

_BUTTONS: list[tuple[Action, str, str, frozenset[CaseStatus]]] = [
    (Action.CLAIMED, "Claim", "a", OPEN),
    (Action.CONTACTED, "Mark contacted", "t", OPEN),
    (Action.RESOLVED, "Mark resolved", "r", OPEN),
    (Action.DISMISSED, "Dismiss", "d", OPEN),
    (Action.REOPENED, "Reopen", "o", frozenset({CaseStatus.RESOLVED, CaseStatus.DISMISSED})),
]


def _actor(context: AdminContext) -> str:
    return f"admin:{context.user.username if context.user else ''}"


async def _view(context: AdminContext) -> tuple[Any, CaseView]:
    site = context.site(context.request.path_params.get("site"))
    desk = desk_for(context, site)
    case_id = str(context.request.path_params.get("case_id", ""))[:64]
    view = await run_in_threadpool(desk.case, case_id, utc_now())
    if view is None:
        raise PageRefused(404, "No such case", "The case is closed and erased, or never was.")
    return desk, view


def _step_form(context: AdminContext, view: CaseView, action: Action, label: str, key: str) -> str:
    return (
        f'<form method="post" action="{esc(case_link(view.state.record.site, view.case_id))}">'
        f"{hidden('csrf', context.csrf)}{hidden('action', action.value)}"
        f'<button type="submit" accesskey="{key}">{esc(label)}</button></form>'
    )


def _steps(context: AdminContext, view: CaseView) -> str:
    state = view.state
    forms = [
        _step_form(context, view, action, label, key)
        for action, label, key, allowed in _BUTTONS
        if state.status in allowed
        and not (action == Action.CLAIMED and state.owner == _actor(context))
    ]
    if state.is_open and state.owner == _actor(context):
        forms.append(_step_form(context, view, Action.RELEASED, "Release", "l"))
    chars = context.site(state.record.site).response.note_chars
    note = (
        f'<form method="post" action="{esc(case_link(state.record.site, view.case_id))}" class="note">'
        f"{hidden('csrf', context.csrf)}{hidden('action', Action.NOTED.value)}"
        f'<label for="note">A note for the team (at most {chars} characters; erased with the case)</label>'
        f'<textarea id="note" name="note" rows="3" maxlength="{chars}" accesskey="e"></textarea>'
        '<button type="submit">Add the note</button></form>'
    )
    return f'<div class="steps">{"".join(forms)}</div>{note}'


def _finding(found: dict[str, Any] | None) -> str:
    if found is None:
        return "<p>The finding itself has expired or was recomputed away; the case stays.</p>"
    evidence = "".join(
        f"<li><time>{esc(item['ts'])}</time> {esc(item['detail'])}</li>"
        for item in found["evidence"]
    )
    return (
        f"<p>{esc(found['noticed'])}</p>"
        f"<dl><dt>Why it matters</dt><dd>{esc(found['why'])}</dd>"
        f"<dt>What the site may do</dt><dd>{esc(found['may_do'])}</dd></dl>"
        f"<details><summary>Evidence ({len(found['evidence'])})</summary><ol>{evidence}</ol></details>"
    )


async def case_page(context: AdminContext) -> Response:
    desk, view = await _view(context)
    now = utc_now()
    record, state = view.state.record, view.state
    found, history, queue = await run_in_threadpool(
        lambda: (desk.finding(view), desk.history(view), desk.inbox(now, OPEN))
    )
    await context.log(
        AdminAction.VIEW_CASE, site=record.site,
        detail=f"case={record.case_id} customer={record.customer_key}",
    )  # fmt: skip
    reference = (
        f"<strong>{esc(view.reference)}</strong>"
        if view.reference
        else "not yet known: it is sealed the next time the customer signs in while "
        "allowing personalization"
    )
    facts = (
        f'<dl class="case"><dt>Customer</dt><dd>{reference}</dd>'
        f"<dt>Status</dt><dd>{esc(state.status.value)}</dd>"
        f"<dt>Owner</dt><dd>{esc(state.owner.removeprefix('admin:') or 'nobody')}</dd>"
        f"<dt>Priority</dt><dd>{view.priority if state.is_open else '-'}</dd>"
        f"<dt>Opened</dt><dd>{esc(wire_time(record.opened_at))} ({waited(record.opened_at, now)} ago)</dd></dl>"
    )
    rows = [
        [
            esc(step["at"]),
            esc(step["actor"].removeprefix("admin:")),
            esc(step["action"]),
            esc(step["note"]),
        ]
        for step in history
    ]
    ids = [item.case_id for item in queue]
    at = ids.index(view.case_id) if view.case_id in ids else -1
    moves = []
    if at >= 0 and at + 1 < len(ids):
        moves.append(
            f'<a href="{esc(case_link(record.site, ids[at + 1]))}" accesskey="j">Next case</a>'
        )
    if at > 0:
        moves.append(
            f'<a href="{esc(case_link(record.site, ids[at - 1]))}" accesskey="k">Previous case</a>'
        )
    moves.append(f'<a href="{INBOX_PATH}?site={esc(record.site)}">Back to the inbox</a>')
    body = (
        f'<nav class="pager" aria-label="Cases">{"".join(moves)}</nav>{facts}'
        f"<h2>What was found</h2>{_finding(found)}"
        f"<h2>What to do</h2>{_steps(context, view)}"
        f"{table('History', ['When (UTC)', 'Who', 'Step', 'Note'], rows)}"
    )
    return context.page(f"{rule_title(record.rule_id)}: case {record.case_id[:8]}", body)


async def act_on_case(context: AdminContext) -> Response:
    desk, view = await _view(context)
    try:
        action = Action(context.form.get("action", ""))
    except ValueError:
        raise PageRefused(400, "No such step", "Use one of the case's buttons.") from None
    if action == Action.ACKNOWLEDGED:
        raise PageRefused(400, "No such step", "Acknowledging is for the site's own tools.")
    note = context.form.get("note", "")
    try:
        await run_in_threadpool(desk.act, view, action, _actor(context), note, utc_now())
    except CaseRefused as refused:
        raise PageRefused(409, "Not possible now", str(refused)) from None
    record = view.state.record
    await context.log(
        AdminAction.ACT_ON_CASE, site=record.site,
        detail=f"case={record.case_id} customer={record.customer_key} step={action.value}",
    )  # fmt: skip
    target = case_link(record.site, record.case_id)
    return RedirectResponse(target, 303, headers=SECURITY_HEADERS)
