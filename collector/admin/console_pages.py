"""The privacy officer's consent log pages: search, one receipt, erasure requests.

These pages show pseudonymous visitor keys and receipt ids, which is the privacy
officer's job (answering access and erasure requests); the route table keeps them from
every other role. Each view is logged with what was asked.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from collector.action_log import AdminAction
from collector.admin.console import (
    CHOICES,
    KINDS,
    PURPOSES,
    ConsentQuery,
    ConsentRow,
    erasure_requests,
    search_consent,
)
from collector.admin.guard import AdminContext
from collector.admin.pages import esc, field, select, table
from collector.errors import PageRefused

__all__ = ["PAGE_SIZE", "consent_log", "erasures", "pager", "receipt"]

PAGE_SIZE = 50


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PageRefused(
            400, "Invalid date", f"The {name} date must be written YYYY-MM-DD."
        ) from None


def page_number(context: AdminContext) -> int:
    value = context.request.query_params.get("page", "0")
    return min(int(value), 10_000) if value.isdigit() else 0


def pager(context: AdminContext, page: int, more: bool) -> str:
    """Links to the newer and older pages, keeping the rest of the query."""
    asked = {k: v for k, v in context.request.query_params.items() if k != "page"}
    path = context.request.url.path
    links = []
    if page > 0:
        links.append(
            f'<a href="{esc(path)}?{esc(urlencode(asked | {"page": page - 1}))}">Newer</a>'
        )
    if more:
        links.append(
            f'<a href="{esc(path)}?{esc(urlencode(asked | {"page": page + 1}))}">Older</a>'
        )
    return f'<nav aria-label="Pages" class="pager">{" ".join(links)}</nav>' if links else ""


def _options(values: tuple[str, ...], every: str) -> list[tuple[str, str]]:
    return [("", every), *((value, value) for value in values)]


def _search_form(context: AdminContext, asked: dict[str, str]) -> str:
    sites = [("", "all my sites"), *((s.id, s.name or s.id) for s in context.sites())]
    return (
        '<form method="get" action="/admin/console" class="search" role="search">'
        f"<p>{field('Receipt id', 'receipt', asked.get('receipt', ''))}</p>"
        f"<p>{field('Visitor key', 'visitor', asked.get('visitor', ''))}</p>"
        f"<p>{field('From (UTC day)', 'since', asked.get('since', ''), 'date')}</p>"
        f"<p>{field('To (UTC day, included)', 'until', asked.get('until', ''), 'date')}</p>"
        f"<p>{select('Site', 'site', sites, asked.get('site', ''))}</p>"
        f"<p>{select('Kind', 'kind', _options(KINDS, 'every kind'), asked.get('kind', ''))}</p>"
        f"<p>{select('Purpose', 'purpose', _options(PURPOSES, 'any purpose'), asked.get('purpose', ''))}</p>"
        f"<p>{select('Choice', 'choice', _options(CHOICES, 'any choice'), asked.get('choice', ''))}</p>"
        '<p><button type="submit">Search</button></p></form>'
    )


def _yes(value: bool) -> str:
    return "granted" if value else "denied"


def _row(row: ConsentRow) -> list[str]:
    visitor = urlencode({"visitor": row.visitor_key})
    return [
        f"{row.recorded_at:%Y-%m-%d %H:%M:%S}", esc(row.site), esc(row.kind),
        _yes(row.analytics), _yes(row.personalization), esc(row.method), esc(row.notice_version),
        f'<a href="/admin/console?{esc(visitor)}" title="Every record of this visitor">'
        f"<code>{esc(row.visitor_key[:12])}…</code></a>",
        f'<a href="/admin/console/receipts/{esc(row.receipt_id)}"><code>{esc(row.receipt_id)}</code></a>',
        "not yet" if row.log_index is None else str(row.log_index),
    ]  # fmt: skip


async def consent_log(context: AdminContext) -> Response:
    asked = {k: v.strip()[:200] for k, v in context.request.query_params.items()}
    sites = tuple(s.id for s in context.sites())
    if asked.get("site"):
        sites = (context.site(asked["site"]).id,)
    query = ConsentQuery(
        sites, asked.get("receipt", ""), asked.get("visitor", ""),
        _day(asked.get("since"), "from"), _day(asked.get("until"), "to"),
        asked.get("kind", ""), asked.get("purpose", ""), asked.get("choice", ""),
    )  # fmt: skip
    page = page_number(context)
    rows, more = await run_in_threadpool(
        search_consent, context.runtime.store, query, PAGE_SIZE, page * PAGE_SIZE
    )
    await context.log(
        AdminAction.SEARCH_CONSENT_LOG, detail=f"{query.describe()} page={page} found={len(rows)}"
    )
    headers = ["Recorded (UTC)", "Site", "Kind", "Analytics", "Personalization", "Method",
               "Notice", "Visitor key", "Receipt", "Log index"]  # fmt: skip
    results = table(
        f"Consent records, newest first (page {page + 1})", headers, [_row(r) for r in rows], (9,)
    )
    body = (
        "<p>Every consent decision, withdrawal and erasure, as recorded and logged.</p>"
        f"{_search_form(context, asked)}<h2>Results</h2>{results}{pager(context, page, more)}"
    )
    return context.page("Consent log", body)


async def receipt(context: AdminContext) -> Response:
    receipt_id = context.request.path_params["receipt_id"][:100]
    reader = context.runtime.log_reader
    document = await run_in_threadpool(reader.receipt, receipt_id)
    allowed = {s.id for s in context.sites()}
    if document is None or document.get("site") not in allowed:
        raise PageRefused(404, "No such receipt", f"No receipt {receipt_id} on your sites.")
    await context.log(AdminAction.VIEW_RECEIPT, site=str(document["site"]), detail=receipt_id)
    erasure = await run_in_threadpool(reader.erasure_receipt, receipt_id)
    shown = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    body = (
        f"<p>Receipt <code>{esc(receipt_id)}</code> as the visitor's browser gets it, with its "
        "inclusion proof once the log covers it; <code>clearsignal audit prove</code> checks "
        f'it offline.</p><h2>Receipt</h2><pre class="document">{esc(shown)}</pre>'
    )
    if erasure is not None:
        body += (
            "<h2>Erasure carried out for this request</h2>"
            f'<pre class="document">{esc(orjson.dumps(erasure, option=orjson.OPT_INDENT_2).decode())}</pre>'
        )
    return context.page("Consent receipt", body)


async def erasures(context: AdminContext) -> Response:
    page = page_number(context)
    sites = tuple(s.id for s in context.sites())
    found, more = await run_in_threadpool(
        erasure_requests, context.runtime.store, sites, PAGE_SIZE, page * PAGE_SIZE
    )
    await context.log(AdminAction.VIEW_ERASURES, detail=f"page={page} found={len(found)}")
    rows = [
        [
            f"{r.requested_at:%Y-%m-%d %H:%M:%S}",
            esc(r.site),
            esc(r.method),
            f"<code>{esc(r.visitor_key[:12])}…</code>",
            f'<a href="/admin/console/receipts/{esc(r.request_receipt_id)}"><code>{esc(r.request_receipt_id)}</code></a>',
            "pending" if r.erased_at is None else f"{r.erased_at:%Y-%m-%d %H:%M:%S}",
            ""
            if r.erasure_receipt_id is None
            else f'<a href="/admin/console/receipts/{esc(r.erasure_receipt_id)}"><code>{esc(r.erasure_receipt_id)}</code></a>',
            esc(", ".join(f"{t}: {n}" for t, n in sorted(r.rows_deleted.items()) if n) or "—"),
        ]
        for r in found
    ]
    headers = ["Requested (UTC)", "Site", "From", "Visitor key", "Request receipt",
               "Erased (UTC)", "Erasure receipt", "Rows deleted"]  # fmt: skip
    body = (
        "<p>Every withdrawal of consent (from a site's banner, the visitor's page or a delete "
        "request) asks for the visitor's data to be erased; the erasure job carries it out and "
        "records an erasure receipt with the rows it removed.</p>"
        f"{table(f'Erasure requests, newest first (page {page + 1})', headers, rows)}"
        f"{pager(context, page, more)}"
    )
    return context.page("Erasure requests", body)
