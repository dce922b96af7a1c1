"""What the site did about a customer's signals, as the customer reads it on /me: each case
(when the site's team was told, about which finding), each step taken and when, by the
team or by the site's own systems, with the team's notes (they are about the customer).
Agents are not named; their usernames are the site's, not the customer's, data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aggregator.cases.desk import CaseDesk
from aggregator.store.client import Store
from clearsignal.clock import wire_time
from clearsignal.settings import SiteSettings

__all__ = ["visitor_cases"]

_BY = {"admin": "the site's team", "api": "the site's systems"}


def visitor_cases(
    store: Store, site: SiteSettings, site_key: bytes, visitor_key: str, now: datetime
) -> list[dict[str, Any]]:
    desk = CaseDesk(store, site, site_key)
    found = []
    for view in desk.visitors_cases(visitor_key, now):
        record = view.state.record
        steps = [
            {
                "at": step["at"],
                "by": _BY.get(step["actor"].split(":", 1)[0], "ClearSignal"),
                "step": step["action"],
                "note": step["note"],
            }
            for step in desk.history(view)
        ]
        found.append(
            {
                "case_id": record.case_id,
                "rule_id": record.rule_id,
                "opened_at": wire_time(record.opened_at),
                "status": view.state.status.value,
                "steps": steps,
                "expires_at": wire_time(record.expires_at),
            }
        )
    return found
