"""Server events, link tokens and a site with touchpoints, for the tests of
``POST /api/server-events`` and ``POST /api/visitor/link``."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from clearsignal.clock import wire_time
from clearsignal.purposes import LawfulBasis
from clearsignal.settings import ServerKind, Settings, TouchpointSettings, demo_site
from consent.customer_links import link_token

__all__ = [
    "LINK_SECRET",
    "server_event",
    "signed_link",
    "touchpoint_settings",
]

LINK_SECRET = "link-secret-of-the-tests-0123456789abcdef"

_FIELDS: dict[str, dict[str, Any]] = {
    "order": {"action": "placed", "value": 49.9, "currency": "EUR", "items": 2, "order": "A-1"},
    "subscription": {"action": "downgraded", "plan": "basic", "recurring_value": 9.0, "currency": "EUR"},
    "contact": {"action": "opened", "ticket": "T-1", "channel": "email", "topic": "delivery"},
    "complaint": {"category": "late_delivery"},
    "sla_breach": {"commitment": "first_response_4h", "over_minutes": 90},
    "handover": {"ticket": "T-1", "count": 2},
    "score": {"survey": "nps", "value": 3},
}  # fmt: skip


def server_event(kind: str, customer: str, **fields: Any) -> dict[str, Any]:
    """A valid event of ``kind`` for ``customer``, now, with a fresh id; ``fields`` override."""
    event: dict[str, Any] = {
        "id": f"ev-{secrets.token_hex(8)}",
        "kind": kind,
        "customer": customer,
        "at": wire_time(datetime.now(UTC) - timedelta(minutes=1)),
        **_FIELDS[kind],
    }
    return event | fields


def signed_link(
    customer: str, site: str = "demo", ttl: float = 600, secret: str = LINK_SECRET
) -> str:
    return link_token(secret.encode(), site, customer, int(time.time() + ttl))


def touchpoint_settings(settings: Settings) -> Settings:
    """``settings`` with the demo site linking customers (and SLA breaches stored on the
    contract), and a second site, ``other``, for keys of another site."""
    touchpoints = TouchpointSettings(
        link_secret=LINK_SECRET, lawful_bases={ServerKind.SLA_BREACH: LawfulBasis.CONTRACT}
    )
    demo = demo_site().model_copy(update={"touchpoints": touchpoints})
    other = demo_site().model_copy(update={"id": "other"})
    return settings.model_copy(update={"sites": [demo, other]})
