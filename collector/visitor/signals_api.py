"""``/api/visitor/signals``: a visitor's own signals, for proactive help on the page.

Two forms, the browser id (a bearer secret) never in a URL:

- ``GET /api/visitor/signals?site=<id>`` with ``Authorization: ClearSignal-Visitor <id>``
  (``collector.visitor.auth``), for pages on the collector's own origin;
- ``POST /api/visitor/signals`` with the body ``{"site", "visitor"}`` as ``text/plain``,
  which a site's page on another origin sends without a CORS preflight (``cs-signals.js``).

Answers only with a current personalization grant, so that a page adapts to a visitor
only when they agreed to it; otherwise 403 with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from aggregator.signals.stored import read_signals, signal_summary
from aggregator.store.client import Store
from clearsignal.settings import SiteSettings
from collector.http_json import json_response
from collector.state import collector_state
from collector.visitor.auth import NO_STORE, visitor_credentials
from collector.visitor.consent_api import parse_visitor_request

__all__ = ["get_visitor_signals", "post_visitor_signals"]


def _signals(store: Store, site: str, visitor_key: str) -> list[dict[str, Any]]:
    """What the page may show: the findings of rules this version knows."""
    found = read_signals(store, site, visitor_key, limit=100)
    return [signal_summary(signal) for signal in found if signal.rule is not None]


async def post_visitor_signals(request: Request) -> Response:
    visitor, site = await parse_visitor_request(request)
    return await _answer(request, site, visitor.visitor)


async def get_visitor_signals(request: Request) -> Response:
    credentials = visitor_credentials(request)
    return await _answer(request, credentials.site, credentials.browser_id)


async def _answer(request: Request, site: SiteSettings, browser_id: str) -> Response:
    shared = collector_state(request)
    key = shared.ledger.visitor_key(site.id, browser_id)
    consent = await run_in_threadpool(shared.ledger.current, site.id, key)
    if consent is None or not consent.allows_personalization(datetime.now(UTC)):
        return json_response(
            403,
            {
                "error": "no_personalization_consent",
                "detail": "signals are shared with the page only with personalization consent",
            },
            NO_STORE,
        )
    found = await run_in_threadpool(_signals, shared.store, site.id, key)
    return json_response(200, {"signals": found}, NO_STORE)
