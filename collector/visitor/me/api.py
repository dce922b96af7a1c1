"""A visitor's own data over HTTP: read it, page through it, download it, delete it.

* ``GET /api/me?site=<id>[&limit=<n>]``: everything held about the visitor (GDPR Art.
  15 and 20): consent records and receipts with their log verification, events (all, or
  the newest ``limit``), signals with their explanation and evidence, retention dates.
  404 ``nothing_held`` when nothing is linked to the browser id on that site.
* ``GET /api/me/events?site=<id>[&before=<cursor>][&limit=<n>]``: one page of the event
  timeline, newest first (``limit`` 1 to 100, default 20; ``next`` is the cursor of the
  following page, null on the last).
* ``DELETE /api/me?site=<id>``: the delete request of ``collector.visitor.consent_api`` (Art. 17).
* ``GET /api/me/about?site=<id>``: what the site collects, why and for how long; no id.

The browser id comes in ``Authorization: ClearSignal-Visitor <id>`` (``collector.
visitor_auth``), never in a URL; without it, or malformed, 401. Every answer is
``Cache-Control: no-store``. Requests are rate-limited per client address (429 with
``Retry-After``), those without a valid id included.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.http_json import json_response
from collector.state import collector_state
from collector.visitor.auth import NO_STORE, VisitorRefused, site_in_query, visitor_credentials
from collector.visitor.consent_api import delete_me
from collector.visitor.limits import throttled
from collector.visitor.me.about import site_explanation
from collector.visitor.me.export import EVENTS_PAGE_MAX, EventCursor, event_page, visitor_export

__all__ = ["NOTHING_HELD", "me_routes"]

DEFAULT_PAGE = 20
NOTHING_HELD = {
    "error": "nothing_held",
    "detail": "nothing is linked to this browser id on this site: no consent record, "
    "event or signal. Without analytics consent the site only counts visits anonymously.",
}

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def _limit(request: Request, default: int | None) -> int | None:
    value = request.query_params.get("limit")
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= EVENTS_PAGE_MAX:
        raise VisitorRefused(
            400,
            {
                "error": "invalid",
                "detail": f"'limit' must be a whole number 1 to {EVENTS_PAGE_MAX}",
            },
        )
    return int(value)


def _cursor(request: Request) -> EventCursor | None:
    value = request.query_params.get("before")
    try:
        return None if value is None else EventCursor.parse(value)
    except ValueError as exc:
        raise VisitorRefused(400, {"error": "invalid", "detail": str(exc)}) from None


async def get_me(request: Request) -> Response:
    credentials = visitor_credentials(request)
    limit = _limit(request, None)
    state = collector_state(request)
    site = credentials.site
    key = state.ledger.visitor_key(site.id, credentials.browser_id)
    export = await run_in_threadpool(
        lambda: visitor_export(
            state.store, state.log_reader, site, key, limit,
            site_key=state.ledger.site_key(site.id),
        )
    )  # fmt: skip
    if export is None:
        return json_response(404, NOTHING_HELD, NO_STORE)
    return json_response(200, export, NO_STORE)


async def get_my_events(request: Request) -> Response:
    credentials = visitor_credentials(request)
    limit = _limit(request, DEFAULT_PAGE)
    before = _cursor(request)
    state = collector_state(request)
    site = credentials.site
    key = state.ledger.visitor_key(site.id, credentials.browser_id)
    page = await run_in_threadpool(event_page, state.store, site, key, before, limit)
    return json_response(200, page, NO_STORE)


async def get_about(request: Request) -> Response:
    site = site_in_query(request)
    return json_response(200, site_explanation(site), NO_STORE)


def me_routes() -> list[Route]:
    """The routes of a visitor's own data: reads under the per-address lookup limit, the
    delete request under the decisions' limit too (it is a leaf of the log)."""
    return [
        Route("/api/me", throttled("lookups", get_me), methods=["GET"]),
        Route("/api/me", throttled("decisions", delete_me), methods=["DELETE"]),
        Route(
            "/api/me/events",
            throttled("lookups", get_my_events),
            methods=["GET"],
        ),
        Route("/api/me/about", get_about, methods=["GET"]),
    ]
