"""The visitor room's API routes, each behind its rate limit (``collector.visitor.limits``).

Decisions (a consent, a delete request) count against ``decisions`` per address and
``site_decisions`` per site; everything that reads by an id a client sends (receipts,
erasures, proofs, a visitor's own data and signals) against ``lookups``. The checkpoint
and the public key are the same for everyone and cached: no limit.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from collector.visitor.consent_api import get_erasure, get_receipt, post_consent
from collector.visitor.limits import throttled
from collector.visitor.link_api import post_visitor_link
from collector.visitor.me.api import me_routes
from collector.visitor.signals_api import get_visitor_signals, post_visitor_signals
from collector.visitor.transparency_api import (
    get_checkpoint,
    get_consistency,
    get_inclusion,
    get_public_key,
    post_cosignatures,
)

__all__ = ["visitor_routes"]


def visitor_routes() -> list[BaseRoute]:
    return [
        Route("/api/consent", throttled("decisions", post_consent), methods=["POST"]),
        Route(
            "/api/consent/receipts/{receipt_id}", throttled("lookups", get_receipt), methods=["GET"]
        ),
        Route(
            "/api/erasures/{request_receipt_id}", throttled("lookups", get_erasure), methods=["GET"]
        ),
        *me_routes(),
        Route("/api/visitor/signals", throttled("lookups", post_visitor_signals), methods=["POST"]),
        Route("/api/visitor/signals", throttled("lookups", get_visitor_signals), methods=["GET"]),
        Route("/api/visitor/link", throttled("decisions", post_visitor_link), methods=["POST"]),
        Route("/api/transparency/checkpoint", get_checkpoint, methods=["GET"]),
        Route("/api/transparency/public-key", get_public_key, methods=["GET"]),
        Route("/api/transparency/inclusion", throttled("lookups", get_inclusion), methods=["GET"]),
        Route(
            "/api/transparency/consistency", throttled("lookups", get_consistency), methods=["GET"]
        ),
        Route(
            "/api/transparency/cosignatures",
            throttled("lookups", post_cosignatures),
            methods=["POST"],
        ),
    ]
