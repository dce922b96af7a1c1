"""Hand-made event histories written straight into ``events``, for job tests."""

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
    "props", "element", "ingested_at", "expires_at",
]  # fmt: skip


def days_ago(days: float, minutes: float = 0) -> datetime:
    return NOW - timedelta(days=days) + timedelta(minutes=minutes)


@dataclass
class Visitor:
    key: str
    events: list[list[Any]] = field(default_factory=list)
    identity: str = "analytics"

    def add(
        self, at: datetime, type_: str = "pageview", path: str = "/demo/", **extra: Any
    ) -> None:
        self.events.append([
            "demo", self.key, self.identity, secrets.token_hex(8), type_, extra.get("name", ""),
            at, ORIGIN + path, path, extra.get("props", {}), extra.get("element", {}),
            extra.get("ingested_at", at), at + timedelta(days=180),
        ])  # fmt: skip


def anonymous_visitor() -> Visitor:
    """A visitor counted under the measurement purpose only (a daily pseudonym)."""
    return Visitor(secrets.token_hex(16), identity="measurement")


def save(store: Store, *visitors: Visitor) -> None:
    rows = [row for v in visitors for row in v.events]
    if rows:
        store.insert("events", rows, COLUMNS)
