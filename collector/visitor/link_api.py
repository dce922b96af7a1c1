"""``POST /api/visitor/link``: a signed-in page links its visitor to the site's customer.

The body is ``{"site", "visitor", "link"}`` (``text/plain``, as the snippet's link add-on
sends it without a preflight), where ``link`` is a token the site's backend signed for
the customer signed in on that page (``consent.customer_links.link_token``). The link is
recorded only with a current analytics grant, and only as two pseudonyms; with a
personalization grant too, the reference is also kept sealed for the site's team
(``consent.customer_references``). Unsigned,
malformed, expired or forged tokens are refused with 403 and counted on /metrics
(``clearsignal_customer_links_refused``); nothing of them is stored.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from pydantic import StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector.errors import RequestRefused
from collector.http_json import json_response
from collector.state import collector_state
from collector.visitor.auth import NO_STORE
from collector.visitor.consent_api import parse_site_request
from collector.visitor.consent_wire import VisitorIn
from consent.customer_links import CustomerLinks, LinkRefusal, LinkRefused, verify_link_token
from consent.customer_references import CustomerReferences

__all__ = ["LinkIn", "post_visitor_link"]


class LinkIn(VisitorIn):
    link: Annotated[str, StringConstraints(min_length=1, max_length=400)]


async def post_visitor_link(request: Request) -> Response:
    body, site = await parse_site_request(request, LinkIn)
    shared = collector_state(request)
    secret = site.touchpoints.link_secret
    try:
        if secret is None:
            raise LinkRefused(LinkRefusal.NOT_CONFIGURED, "this site links no customers")
        reference = verify_link_token(
            secret.get_secret_value().encode(), site.id, body.link, time.time()
        )
    except LinkRefused as refused:
        shared.count_refused_link(site.id, refused.reason.value)
        raise RequestRefused(
            403, {"error": refused.reason.value, "detail": refused.detail}, NO_STORE
        ) from None
    ledger = shared.ledger
    visitor = ledger.visitor_key(site.id, body.visitor)
    now = datetime.now(UTC)
    consent = await run_in_threadpool(ledger.current, site.id, visitor)
    if consent is None or not consent.allows_analytics(now):
        raise RequestRefused(
            403,
            {
                "error": "no_analytics_consent",
                "detail": "a browser is linked to a customer only with an analytics grant",
            },
            NO_STORE,
        )
    customer = ledger.customer_key(site.id, reference)
    links = CustomerLinks(shared.store)
    await run_in_threadpool(links.record, site.id, visitor, customer, now, site.retention_days)
    if consent.allows_personalization(now):  # the team may reach the customer: kept sealed
        references = CustomerReferences(shared.store, ledger.site_key(site.id))
        await run_in_threadpool(
            references.record, site.id, visitor, customer, reference, now, site.retention_days
        )
    return json_response(201, {"linked": True}, NO_STORE)
