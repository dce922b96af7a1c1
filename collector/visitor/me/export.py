"""Everything ClearSignal holds about one visitor of one site (GDPR Art. 15 and 20).

``visitor_export`` reads, for a visitor key: the consent records (with receipts and their
log verification), the events (newest first, a page at a time or all), the signals with
their plain-language explanation and evidence, and the retention dates. Every key runs
the same queries in the same order (plus a receipt lookup per consent record, of which a
key holding nothing has none): a key never seen and the key of another site's browser id
cost the same work and give the same ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aggregator.signals.rules import rule
from aggregator.store.client import Store
from clearsignal.settings import SiteSettings
from collector.visitor.me.about import site_explanation
from collector.visitor.me.labels import event_label, page_kind
from collector.visitor.me.receipts import receipt_statuses
from consent.log_reader import LogReader

__all__ = [
    "EVENTS_PAGE_MAX",
    "EXPORT_FORMAT",
    "EventCursor",
    "event_page",
    "visitor_export",
]

EXPORT_FORMAT = "clearsignal-visitor-export/1"
EVENTS_PAGE_MAX = 100
_CURSOR = re.compile(r"(\d{1,15})-([0-9a-f]{16})")
_VISITOR = "site = {site:String} AND visitor_key = {key:String}"
_EVENTS = f"events FINAL WHERE {_VISITOR} AND identity = 'analytics'"


def iso(value: datetime) -> str:
    """A stored UTC time as ISO 8601 with a Z."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        "ts": iso(row["ts"]),
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
        "received_at": iso(row["ingested_at"]),
        "delete_on": iso(row["expires_at"]),
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
        "deleted_between": [iso(first_deletion), iso(last_deletion)] if total else None,
        "items": [_event(site, row) for row in rows],
        "next": cursor,
    }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _when(value: datetime) -> str:
    return f"{value.day} {value:%B %Y, %H:%M} UTC"


def _signal(row: dict[str, Any]) -> dict[str, Any]:
    definition = rule(row["rule_id"])
    # Named tuples come back as dicts from some client versions, as tuples from others.
    found = [
        (item["event_id"], item["ts"], item["detail"]) if isinstance(item, dict) else item
        for item in row["evidence"]
    ]
    evidence = [{"event_id": e, "ts": iso(ts), "detail": detail} for e, ts, detail in found]
    times = [ts for _, ts, _ in found] or [row["window_start"], row["window_end"]]
    first, last = min(times), max(times)
    inputs = {"count": _number(row["value"]), "first": _when(first), "last": _when(last)}
    return {
        "rule_id": row["rule_id"],
        "rule_version": row["rule_version"],
        "title": definition.title if definition else row["rule_id"],
        "noticed": definition.noticed.format(**inputs) if definition else "",
        "noticed_template": definition.noticed if definition else "",
        "template_inputs": inputs | {"first": iso(first), "last": iso(last)},
        "why": definition.why if definition else "",
        "may_do": definition.may_do if definition else "",
        "value": row["value"],
        "window_start": iso(row["window_start"]),
        "window_end": iso(row["window_end"]),
        "evidence": evidence,
        "computed_at": iso(row["computed_at"]),
        "delete_on": iso(row["expires_at"]),
    }


def _visitor_rows(
    store: Store, site: SiteSettings, visitor_key: str, columns: str, source: str, order: str
) -> list[dict[str, Any]]:
    return store.dicts(
        f"SELECT {columns} FROM {source} WHERE {_VISITOR} ORDER BY {order}",
        {"site": site.id, "key": visitor_key},
    )


def _consent_records(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    columns = (
        "receipt_id, kind, method, analytics, personalization, notice_version, recorded_at, "
        "expires_at"
    )
    order = "recorded_at DESC, receipt_id DESC"
    rows = _visitor_rows(store, site, visitor_key, columns, "consent_records", order)
    return [
        {
            "receipt_id": row["receipt_id"],
            "kind": row["kind"],
            "method": row["method"],
            "analytics": bool(row["analytics"]),
            "personalization": bool(row["personalization"]),
            "notice_version": row["notice_version"],
            "recorded_at": iso(row["recorded_at"]),
            "expires_at": iso(row["expires_at"]),
        }
        for row in rows
    ]


def _current(records: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The visitor's current choices: their latest decision, if it has not expired."""
    latest = next((r for r in records if r["kind"] != "erasure"), None)
    expired = latest is not None and latest["expires_at"] <= iso(now)
    if latest is None or expired:
        return {"analytics": False, "personalization": False, "decided": latest is not None}
    return {
        "analytics": latest["analytics"],
        "personalization": latest["personalization"],
        "decided": True,
        "notice_version": latest["notice_version"],
        "recorded_at": latest["recorded_at"],
        "expires_at": latest["expires_at"],
        "receipt_id": latest["receipt_id"],
    }


def _signals(store: Store, site: SiteSettings, visitor_key: str) -> list[dict[str, Any]]:
    columns = (
        "rule_id, rule_version, window_start, window_end, value, evidence, computed_at, expires_at"
    )
    rows = _visitor_rows(
        store, site, visitor_key, columns, "signals FINAL", "window_end DESC, rule_id"
    )
    return [_signal(row) for row in rows]


def visitor_export(
    store: Store,
    reader: LogReader,
    site: SiteSettings,
    visitor_key: str,
    events_limit: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Everything held about the visitor, or None when nothing is."""
    records = _consent_records(store, site, visitor_key)
    events = event_page(store, site, visitor_key, None, events_limit)
    signals = _signals(store, site, visitor_key)
    receipts = receipt_statuses(reader, [r["receipt_id"] for r in records])
    if not records and not events["total"] and not signals:
        return None
    moment = now or datetime.now(UTC)
    return {
        "format": EXPORT_FORMAT,
        "generated_at": iso(moment),
        "visitor_key": visitor_key,
        "about": site_explanation(site),
        "consent": {"current": _current(records, moment), "records": records},
        "receipts": receipts,
        "events": events,
        "signals": signals,
        "log": {"origin": reader.verifier.origin, "verifier_key": reader.verifier.vkey},
    }
