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
    "event_ms",
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


def event_ms(event: ServerEvent) -> int:
    return int(event.at.timestamp() * 1000)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def server_row(
    site: str,
    customer_key: str,
    event: ServerEvent,
    source: str,
    received_ms: int,
    retention_days: int,
) -> list[Any]:
    """The row of one validated event, waiting for its visitor and basis."""
    fields = event.model_dump(exclude_none=True)
    amount_field = AMOUNT_FIELD.get(event.kind)
    quantity_field = QUANTITY_FIELD.get(event.kind)
    attributes = {
        name: _text(value)
        for name, value in fields.items()
        if name not in _COMMON and name != amount_field and name != quantity_field
    }
    ts = event_ms(event)
    return [
        site,
        "",
        customer_key,
        event.id,
        event.kind,
        event.action,
        clickhouse_time(ts),
        attributes,
        float(fields[amount_field]) if amount_field else 0.0,
        fields.get("currency", ""),
        int(fields[quantity_field]) if quantity_field else 0,
        "",
        source,
        clickhouse_time(received_ms),
        ts // 1000 + retention_days * 86_400,
    ]
