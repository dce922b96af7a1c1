"""Everything ClearSignal holds about one visitor of one site (GDPR Art. 15 and 20).

``visitor_export`` reads, for a visitor key: the consent records (with receipts and their
log verification), the events (newest first, a page at a time or all), the signals with
their plain-language explanation and evidence, the sessions derived from the events, the
webhook deliveries that told the site about the visitor's signals, what the site's own
systems told about the customer account the browser was linked to (``server_events``,
``customer_links``), that the site's reference for it is held sealed, the cases the site's
team opened about them and what it did (``collector.visitor.me.cases``), the retention
dates,
and the rows of any other table that holds the key (``held_elsewhere``: every table
erasure clears, ``consent.erasure.personal_tables``, is in the export). Every key runs
the same queries in the same order (plus a receipt lookup per consent record, of which a
key holding nothing has none): a key never seen and the key of another site's browser id
cost the same work and give the same ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aggregator.signals.stored import read_signals, signal_document
from aggregator.store.client import Store
from clearsignal.clock import wire_time
from clearsignal.settings import SiteSettings
from collector.visitor.me.about import site_explanation
from collector.visitor.me.cases import visitor_cases
from collector.visitor.me.labels import event_label, page_kind
from collector.visitor.me.receipts import receipt_statuses
from consent.erasure import personal_tables
from consent.log_reader import LogReader
from consent.state import ConsentState

__all__ = [
    "EVENTS_PAGE_MAX",
    "EXPORT_FORMAT",
    "EventCursor",
    "event_page",
    "visitor_export",
]

EXPORT_FORMAT = "clearsignal-visitor-export/1"
# Tables the export renders for people; any other table holding the key is exported raw.
RENDERED_TABLES = (
    "events", "signals", "sessions", "webhook_deliveries", "server_events", "customer_links",
    "cases", "case_actions", "customer_references",
)  # fmt: skip
EVENTS_PAGE_MAX = 100
_CURSOR = re.compile(r"(\d{1,15})-([0-9a-f]{16})")
_VISITOR = "site = {site:String} AND visitor_key = {key:String}"
_EVENTS = f"events FINAL WHERE {_VISITOR} AND identity = 'analytics'"


@dataclass(frozen=True)
class EventCursor:
    """Where a page of the timeline ends: events strictly older come next."""

    ts_ms: int
    event_id: str

    @classmethod
    def parse(cls, text: str) -> EventCursor:
        match = _CURSOR.fullmatch(text)
        if match is None:
            raise ValueError("'before' must be a cursor from a previous page's 'next'")
        return cls(int(match[1]), match[2])

    def __str__(self) -> str:
        return f"{self.ts_ms}-{self.event_id}"


def _event(site: SiteSettings, row: dict[str, Any]) -> dict[str, Any]:
    props, element = dict(row["props"]), dict(row["element"])
    return {
        "event_id": row["event_id"],
        "ts": wire_time(row["ts"]),
        "label": event_label(site.pages, row["type"], row["name"], row["path"], props, element),
        "type": row["type"],
        "name": row["name"],
        "page_kind": page_kind(site.pages, row["path"]),
        "url": row["url"],
        "path": row["path"],
        "referrer": row["referrer"],
        "props": props,
        "element": element,
        "device": row["device"],
        "browser": row["browser"],
        "received_at": wire_time(row["ingested_at"]),
        "delete_on": wire_time(row["expires_at"]),
    }


def event_page(
    store: Store,
    site: SiteSettings,
    visitor_key: str,
    before: EventCursor | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """``{total, items, next}``: the visitor's events, newest first; ``limit`` None: all."""
    parameters: dict[str, Any] = {"site": site.id, "key": visitor_key}
    where = _EVENTS
    if before is not None:
        where += (
            " AND (ts, event_id) < (fromUnixTimestamp64Milli({before_ms:Int64}, 'UTC'), "
            "{before_id:String})"
        )
        parameters |= {"before_ms": before.ts_ms, "before_id": before.event_id}
    [(total, first_deletion, last_deletion)] = store.rows(
        f"SELECT count(), min(expires_at), max(expires_at) FROM {_EVENTS}", parameters
    )
    if limit is not None:
        parameters["limit"] = limit + 1
    rows = store.dicts(
        "SELECT event_id, type, name, ts, url, path, referrer, props, element, device, "
        f"browser, ingested_at, expires_at FROM {where} ORDER BY ts DESC, event_id DESC"
        + ("" if limit is None else " LIMIT {limit:UInt32}"),
        parameters,
    )
    cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        ts = last["ts"] if last["ts"].tzinfo else last["ts"].replace(tzinfo=UTC)
        cursor = str(EventCursor(round(ts.timestamp() * 1000), last["event_id"]))
    return {
        "total": int(total),
        "deleted_between": [wire_time(first_deletion), wire_time(last_deletion)] if total else None,
        "items": [_event(site, row) for row in rows],
        "next": cursor,
    }


def _visitor_rows(
    store: Store, site: SiteSettings, visitor_key: str, columns: str, source: str, order: str
) -> list[dict[str, Any]]:
    return store.dicts(
        f"SELECT {columns} FROM {source} WHERE {_VISITOR} ORDER BY {order}",
        {"site": site.id, "key": visitor_key},
    )


def _sessions(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    columns = (
        "session_start, session_end, events, pageviews, entry_path, exit_path, steps, expires_at"
    )
    rows = _visitor_rows(store, site, visitor_key, columns, "sessions FINAL", "session_start DESC")
    return [_on_the_wire(row) for row in rows]


def _webhook_deliveries(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    """What the site's webhook was told about the visitor: one row per attempt."""
    columns = (
        "delivery_id, rule_id, rule_version, window_start, attempt, status, http_status, "
        "attempted_at, expires_at"
    )
    order = "attempted_at DESC, delivery_id, attempt"
    rows = _visitor_rows(store, site, visitor_key, columns, "webhook_deliveries FINAL", order)
    return [_on_the_wire(row) for row in rows]


def _server_events(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    """What the site's own systems told about the visitor's linked customer account:
    kinds, categories, amounts and times (the wire refuses free text)."""
    columns = "event_id, kind, action, ts AS at, attributes, amount, currency, quantity, basis, expires_at"
    rows = _visitor_rows(store, site, visitor_key, columns, "server_events FINAL", "ts DESC")
    return [_on_the_wire(row) for row in rows]


def _customer_links(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    """Which customer accounts of the site this browser was linked to (their pseudonyms)."""
    columns = "customer_key, linked_at, expires_at"
    rows = _visitor_rows(
        store, site, visitor_key, columns, "customer_links FINAL", "linked_at DESC"
    )
    return [_on_the_wire(row) for row in rows]


def _customer_references(
    store: Store, site: SiteSettings, visitor_key: str
) -> list[dict[str, Any]]:
    """That the site's reference for the linked account is held, sealed, for the team."""
    columns = "customer_key, recorded_at, expires_at"
    rows = _visitor_rows(
        store, site, visitor_key, columns, "customer_references FINAL", "recorded_at DESC"
    )
    return [_on_the_wire(row) | {"kept": "sealed"} for row in rows]


def _held_elsewhere(store: Store, site: SiteSettings, visitor_key: str) -> dict[str, Any]:
    found = personal_tables(store, ("site", "visitor_key"))
    others = [t for t in found if t not in RENDERED_TABLES]
    return {
        table: [
            _on_the_wire(row)
            for row in _visitor_rows(store, site, visitor_key, "*", f"`{table}`", "visitor_key")
        ]
        for table in others
    }


def _on_the_wire(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: wire_time(value)
        if isinstance(value, datetime)
        else value.hex()
        if isinstance(value, bytes)
        else value
        for name, value in row.items()
        if name not in ("site", "visitor_key")
    }


def _consent_rows(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    columns = (
        "receipt_id, kind, method, analytics, personalization, notice_version, recorded_at, "
        "expires_at"
    )
    order = "recorded_at DESC, receipt_id DESC"
    return _visitor_rows(store, site, visitor_key, columns, "consent_records", order)


def _consent_record(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "receipt_id": row["receipt_id"],
        "kind": row["kind"],
        "method": row["method"],
        "analytics": bool(row["analytics"]),
        "personalization": bool(row["personalization"]),
        "notice_version": row["notice_version"],
        "recorded_at": wire_time(row["recorded_at"]),
        "expires_at": wire_time(row["expires_at"]),
    }


def _current(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The visitor's current choices: their latest decision, while it is in force."""
    latest = next((row for row in rows if row["kind"] != "erasure"), None)
    if latest is None:
        return {"analytics": False, "personalization": False, "decided": False}
    state = ConsentState(
        bool(latest["analytics"]), bool(latest["personalization"]), latest["recorded_at"],
        latest["expires_at"], latest["receipt_id"],
    )  # fmt: skip
    if not state.in_force(now):
        return {"analytics": False, "personalization": False, "decided": True}
    return {
        "analytics": state.allows_analytics(now),
        "personalization": state.allows_personalization(now),
        "decided": True,
        "notice_version": latest["notice_version"],
        "recorded_at": wire_time(state.recorded_at),
        "expires_at": wire_time(state.expires_at),
        "receipt_id": state.receipt_id,
    }


def visitor_export(
    store: Store,
    reader: LogReader,
    site: SiteSettings,
    visitor_key: str,
    events_limit: int | None = None,
    now: datetime | None = None,
    site_key: bytes | None = None,
) -> dict[str, Any] | None:
    """Everything held about the visitor, or None when nothing is. With the ``site_key``,
    the cases about them too (their notes are sealed under it)."""
    moment = now or datetime.now(UTC)
    rows = _consent_rows(store, site, visitor_key)
    records = [_consent_record(row) for row in rows]
    events = event_page(store, site, visitor_key, None, events_limit)
    signals = [signal_document(s) for s in read_signals(store, site.id, visitor_key)]
    sessions = _sessions(store, site, visitor_key)
    deliveries = _webhook_deliveries(store, site, visitor_key)
    server_events = _server_events(store, site, visitor_key)
    links = _customer_links(store, site, visitor_key)
    references = _customer_references(store, site, visitor_key)
    cases = visitor_cases(store, site, site_key, visitor_key, moment) if site_key else []
    elsewhere = _held_elsewhere(store, site, visitor_key)
    receipts = receipt_statuses(reader, [r["receipt_id"] for r in records])
    held = (
        records, events["total"], signals, sessions, deliveries, server_events, links,
        references, cases, *elsewhere.values(),
    )  # fmt: skip
    if not any(held):
        return None
    return {
        "format": EXPORT_FORMAT,
        "generated_at": wire_time(moment),
        "visitor_key": visitor_key,
        "about": site_explanation(site),
        "consent": {"current": _current(rows, moment), "records": records},
        "receipts": receipts,
        "events": events,
        "signals": signals,
        "sessions": sessions,
        "webhook_deliveries": deliveries,
        "server_events": server_events,
        "customer_links": links,
        "customer_references": references,
        "cases": cases,
        "held_elsewhere": elsewhere,
        "log": {"origin": reader.verifier.origin, "verifier_key": reader.verifier.vkey},
    }
