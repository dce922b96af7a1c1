"""``POST /api/server-events/deletions``: the site's backend files a deletion for customer
references (a customer asked the site, by e-mail or at its help desk, to delete their
data). Any active key of the site may file one; the body is
``{"site", "customers": [reference, ...]}`` (at most 100).

Answers 202 ``{"customers": n, "withdrawals": [receipt id, ...]}``: the customers' own
rows are deleted before the answer, and each linked visitor's withdrawal is carried out
by the erasure job, whose receipt ``GET /api/erasures/{id}`` shows
(``consent.customer_erasure``).
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector.errors import RequestRefused
from collector.http_json import field_errors, json_response, read_body
from collector.ingest.server_events.endpoint import (
    NO_STORE,
    SERVER_EVENTS_STATE,
    ServerEventIngestor,
)
from collector.ingest.server_events.kinds import CustomerRef
from collector.state import collector_state, lifespan_state
from collector.wire_types import SiteId, WireModel
from consent.customer_erasure import erase_customer

__all__ = ["DELETIONS_PATH", "post_customer_deletions"]

DELETIONS_PATH = "/api/server-events/deletions"


class DeletionsIn(WireModel):
    site: SiteId
    customers: list[CustomerRef] = Field(min_length=1, max_length=100)


async def post_customer_deletions(request: Request) -> Response:
    ingestor = lifespan_state(request, SERVER_EVENTS_STATE, ServerEventIngestor)
    key = await ingestor.authenticated(request)
    try:
        body = DeletionsIn.model_validate_json(await read_body(request, 64 * 1024))
    except ValidationError as exc:
        raise RequestRefused(400, {"error": "invalid", "fields": field_errors(exc)}) from None
    site = ingestor.site_for_key(key, body.site)
    shared = collector_state(request)
    withdrawals: list[str] = []
    for reference in dict.fromkeys(body.customers):
        erased = await run_in_threadpool(
            erase_customer, shared.ledger, shared.store, site, reference
        )
        withdrawals.extend(erased.withdrawals)
    if withdrawals:
        shared.nudge("consent.sequence")
        shared.nudge("consent.erase")
    answer = {"customers": len(set(body.customers)), "withdrawals": withdrawals}
    return json_response(202, answer, NO_STORE)
