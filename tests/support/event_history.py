"""Hand-made event histories written straight into ``events`` and ``server_events``, for
job tests.

A row's ``stored_at`` (what the jobs' watermarks follow, by the store's clock) is the
time it is added here, as the store would stamp it, unless a test gives one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.store.client import Store
from tests.support.site_requests import ORIGIN

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

COLUMNS = [
    "site", "visitor_key", "identity", "event_id", "type", "name", "ts", "url", "path",
    "props", "element", "ingested_at", "stored_at", "expires_at",
]  # fmt: skip


def days_ago(days: float, minutes: float = 0) -> datetime:
    return NOW - timedelta(days=days) + timedelta(minutes=minutes)


SERVER_COLUMNS = [
    "site", "visitor_key", "customer_key", "event_id", "kind", "action", "ts", "attributes",
    "amount", "currency", "quantity", "basis", "source", "ingested_at", "stored_at",
    "expires_at",
]  # fmt: skip


@dataclass
class Visitor:
    key: str
    events: list[list[Any]] = field(default_factory=list)
    identity: str = "analytics"
    server_events: list[list[Any]] = field(default_factory=list)

    def server(
        self, at: datetime, kind: str, action: str, amount: float = 0.0, quantity: int = 0,
        **attributes: str,
    ) -> None:  # fmt: skip
        """An event of the site's systems, joined to this visitor (as the writer joins it)."""
        self.server_events.append([
            "demo", self.key, f"c-{self.key}", f"sv-{secrets.token_hex(8)}", kind, action, at,
            attributes, amount, "EUR" if kind in ("order", "subscription") else "", quantity,
            "consent", "api", at, datetime.now(UTC), at + timedelta(days=180),
        ])  # fmt: skip

    def add(
        self, at: datetime, type_: str = "pageview", path: str = "/demo/", **extra: Any
    ) -> None:
        self.events.append([
            "demo", self.key, self.identity, secrets.token_hex(8), type_, extra.get("name", ""),
            at, ORIGIN + path, path, extra.get("props", {}), extra.get("element", {}),
            extra.get("ingested_at", at), extra.get("stored_at") or datetime.now(UTC),
            at + timedelta(days=180),
        ])  # fmt: skip


def checkout(v: Visitor, start: datetime, *taken: str) -> None:
    """One visit from ``start`` that takes ``taken`` in order, a minute apart: funnel step
    names, or ``rage`` / ``dead`` for a rage or dead click on the payment page."""
    for n, what in enumerate(taken):
        at = start + timedelta(minutes=n)
        if what in ("rage", "dead"):
            v.add(at, f"{what}_click", "/demo/checkout/payment", element={"sel": "#pay>button"})
        else:
            v.add(at, "step", f"/demo/checkout/{what}", name=what)


def anonymous_visitor() -> Visitor:
    """A visitor counted under the measurement purpose only (a daily pseudonym)."""
    return Visitor(secrets.token_hex(16), identity="measurement")


def save(store: Store, *visitors: Visitor) -> None:
    rows = [row for v in visitors for row in v.events]
    if rows:
        store.insert("events", rows, COLUMNS)
    server = [row for v in visitors for row in v.server_events]
    if server:
        store.insert("server_events", server, SERVER_COLUMNS)
