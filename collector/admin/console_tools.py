"""The privacy officer's tools: log verification, exports, the record of processing, and
the log of what was done in /admin.

Verification runs ``consent.audit.verify_log``, exactly what ``clearsignal audit verify``
runs, with this deployment's log key. Exports are ``consent.export.export_records`` (as
``clearsignal audit export``), downloaded as a file. The record of processing is
``consent.ropa.record_of_processing``, as ``clearsignal audit ropa`` prints it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, time

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from collector.action_log import ActionScope, AdminAction, Outcome
from collector.admin.console_pages import PAGE_SIZE, page_number, pager
from collector.admin.guard import SECURITY_HEADERS, AdminContext
from collector.admin.pages import esc, field, hidden, select, table
from collector.errors import PageRefused
from consent.audit import AuditEvidence, verify_log
from consent.export import export_records
from consent.ropa import record_of_processing

__all__ = ["actions", "export_download", "export_form", "ropa", "verify_form", "verify_run"]

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _verify_body(context: AdminContext, result: str = "") -> str:
    return (
        "<p>Recompute every leaf and node hash of the consent log from the store, check every "
        "signed checkpoint's signature and root and the consistency between consecutive "
        "checkpoints, the cosignatures of the configured witnesses, and that every consent "
        "record is in the log: <code>clearsignal audit verify</code> with this deployment's "
        "witnesses. An auditor runs it with the keys and checkpoints they hold "
        "(docs/trust.md).</p>"
        f'<form method="post" action="/admin/console/verify">{hidden("csrf", context.csrf)}'
        '<button type="submit">Verify the consent log now</button></form>'
        f"{result}"
    )


async def verify_form(context: AdminContext) -> Response:
    return context.page("Verify the consent log", _verify_body(context))


async def verify_run(context: AdminContext) -> Response:
    runtime = context.runtime
    started = datetime.now(UTC)
    witnesses = runtime.settings.transparency
    evidence = AuditEvidence(witnesses=witnesses.witnesses, quorum=witnesses.quorum)
    report = await run_in_threadpool(
        verify_log, runtime.store, runtime.log_reader.verifier, evidence
    )
    outcome = Outcome.OK if report.ok else Outcome.FAILED
    summary = report.summary()
    await context.log(AdminAction.VERIFY_LOG, outcome, detail=summary)
    verdict = "verified" if report.ok else "FAILED"
    result = (
        f'<section aria-labelledby="result-h" class="result {verdict.lower()}">'
        f'<h2 id="result-h">Result: {verdict}</h2><p role="status">{esc(summary)}</p>'
        f"<p>Checked {started:%Y-%m-%d %H:%M:%S} UTC.</p></section>"
    )
    return context.page("Verify the consent log", _verify_body(context, result))


def _export_body(context: AdminContext) -> str:
    sites = [(s.id, s.name or s.id) for s in context.sites()]
    return (
        "<p>A site's consent records in a time range, with each record's log index and exact "
        "entry, as <code>clearsignal audit export</code> writes them.</p>"
        f'<form method="post" action="/admin/console/export">{hidden("csrf", context.csrf)}'
        f"<p>{select('Site', 'site', sites, '')}</p>"
        f"<p>{field('From (UTC day, optional)', 'since', '', 'date')}</p>"
        f"<p>{field('Until (UTC day, excluded, optional)', 'until', '', 'date')}</p>"
        f"<p>{select('Format', 'format', [('csv', 'CSV'), ('jsonl', 'JSON lines')], 'csv')}</p>"
        '<p><button type="submit">Download the export</button></p></form>'
    )


async def export_form(context: AdminContext) -> Response:
    return context.page("Export consent records", _export_body(context))


def _moment(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        raise PageRefused(
            400, "Invalid date", f"The {name} date must be written YYYY-MM-DD."
        ) from None


async def export_download(context: AdminContext) -> Response:
    form = context.form
    site = context.site(form.get("site") or "-")
    file_format = form.get("format", "csv")
    if file_format not in FORMATS:
        raise PageRefused(400, "Unknown format", "Choose CSV or JSON lines.")
    since, until = _moment(form.get("since", ""), "from"), _moment(form.get("until", ""), "until")
    out = io.StringIO()
    count = await run_in_threadpool(
        export_records, context.runtime.store, site.id, out, file_format, since, until
    )
    await context.log(
        AdminAction.EXPORT, site=site.id,
        detail=f"{file_format} since={since or '-'} until={until or '-'} records={count}",
    )  # fmt: skip
    stamp = datetime.fromtimestamp(context.runtime.clock(), UTC)
    name = f"clearsignal-{site.id}-consent-records-{stamp:%Y%m%d}.{file_format}"
    headers = SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), 200, headers, media_type=FORMATS[file_format])


async def ropa(context: AdminContext) -> Response:
    text = record_of_processing(context.runtime.settings, [s.id for s in context.sites()])
    await context.log(AdminAction.VIEW_ROPA)
    body = (
        "<p>The record of processing activities (GDPR Art. 30), generated from the settings "
        "and from what ClearSignal stores, as <code>clearsignal audit ropa</code> prints it "
        "(Markdown).</p>"
        f'<pre class="document">{esc(text)}</pre>'
    )
    return context.page("Record of processing", body)


async def actions(context: AdminContext) -> Response:
    page = page_number(context)
    username = context.request.query_params.get("user", "")[:64] or None
    user = context.user
    scope = None if user is None or not user.sites else ActionScope(user.username, user.sites)
    found = await run_in_threadpool(
        context.runtime.actions.recent, PAGE_SIZE + 1, page * PAGE_SIZE, username, scope
    )
    await context.log(AdminAction.VIEW_ACTIONS, detail=f"user={username or '*'} page={page}")
    rows = [
        [f"{a.at:%Y-%m-%d %H:%M:%S}", esc(a.username), esc(a.role), esc(a.action),
         esc(a.outcome), esc(a.site), esc(a.detail), f"<code>{esc(a.client)}</code>"]
        for a in found[:PAGE_SIZE]
    ]  # fmt: skip
    headers = ["When (UTC)", "User", "Role", "Action", "Outcome", "Site", "Detail", "Client"]
    body = (
        "<p>Every action taken in /admin, including failed sign-ins and refused requests "
        "(an account limited to some sites sees the actions on those sites and its own). "
        "The client is a keyed digest of its network address; addresses are not stored.</p>"
        f'<form method="get" action="/admin/console/actions" role="search">'
        f"<p>{field('User', 'user', username or '')}</p>"
        '<p><button type="submit">Show</button></p></form>'
        f"{table(f'Admin actions, newest first (page {page + 1})', headers, rows)}"
        f"{pager(context, page, len(found) > PAGE_SIZE)}"
    )
    return context.page("Admin actions", body)
