"""The stored shape of a server event: a row of the ``server_events`` table (migration 0018).

A kind's own fields become ``attributes`` (ids and categories, as text), except its one
amount (``amount``: an order's value, a plan's recurring value, minutes over an SLA, a
score) and its one count (``quantity``: items, handovers). The customer reference is
replaced by its keyed pseudonym before a row exists. ``visitor_key`` and ``basis`` are
filled in when the row is written (``collector.ingest.server_events.writer``): the
visitor it counts for is the one linked and consenting at that moment.
"""

from __future__ import annotations

from typing import Any

from collector.ingest.rows import clickhouse_time
from collector.ingest.server_events.kinds import ServerEvent

__all__ = [
    "AMOUNT_FIELD",
    "QUANTITY_FIELD",
    "SERVER_EVENT_COLUMNS",
    "server_row",
]

SERVER_EVENT_COLUMNS = (
    "site", "visitor_key", "customer_key", "event_id", "kind", "action", "ts", "attributes",
    "amount", "currency", "quantity", "basis", "source", "ingested_at", "expires_at",
)  # fmt: skip
VISITOR, BASIS = SERVER_EVENT_COLUMNS.index("visitor_key"), SERVER_EVENT_COLUMNS.index("basis")
CUSTOMER, KIND = SERVER_EVENT_COLUMNS.index("customer_key"), SERVER_EVENT_COLUMNS.index("kind")

AMOUNT_FIELD = {
    "order": "value",
    "subscription": "recurring_value",
    "sla_breach": "over_minutes",
    "score": "value",
}
QUANTITY_FIELD = {"order": "items", "handover": "count"}
_COMMON = frozenset({"v", "id", "customer", "at", "kind", "action", "currency"})
_LAYOUTS: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {}
"""Per kind: the fields that become attributes (every field but the common ones, its
amount and its count), its amount field and its count field; filled in on first use."""


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _layout(event: ServerEvent) -> tuple[tuple[str, ...], str | None, str | None]:
    """A kind's attribute fields, its amount field and its count field."""
    found = _LAYOUTS.get(event.kind)
    if found is None:
        amount, quantity = AMOUNT_FIELD.get(event.kind), QUANTITY_FIELD.get(event.kind)
        skipped = _COMMON | {amount, quantity}
        names = tuple(name for name in type(event).model_fields if name not in skipped)
        found = _LAYOUTS[event.kind] = (names, amount, quantity)
    return found


def server_row(
    site: str,
    customer_key: str,
    event: ServerEvent,
    ts: int,
    source: str,
    received: str,
    retention_days: int,
) -> list[Any]:
    """The row of one validated event (``ts`` its time in ms, ``received`` the arrival
    as ``clickhouse_time`` text), waiting for its visitor and basis."""
    fields = event.__dict__
    names, amount, quantity = _layout(event)
    attributes = {}
    for name in names:
        value = fields[name]
        if value is not None:
            attributes[name] = value if value.__class__ is str else _text(value)
    return [
        site,
        "",
        customer_key,
        event.id,
        event.kind,
        event.action,
        clickhouse_time(ts),
        attributes,
        float(fields[amount]) if amount else 0.0,
        fields.get("currency", ""),
        int(fields[quantity]) if quantity else 0,
        "",
        source,
        received,
        ts // 1000 + retention_days * 86_400,
    ]
