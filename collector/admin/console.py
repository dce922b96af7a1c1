"""What the privacy officer's console reads: consent records and erasure requests.

Consent records are searched by receipt id, visitor key, date range (UTC days, both
included), kind, site, purpose and choice: with a purpose, the choice is that purpose's;
without one, "granted" finds records granting analytics or personalization and "denied"
records granting neither. Results are newest first, a page at a time, each with its index
in the transparency log (none yet while the sequencer has not integrated it).

An erasure request is a withdrawal (from a site's banner, /me or a delete request); its
erasure is the ``erasure`` record naming it, with the rows it removed per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from aggregator.store.client import Store

__all__ = [
    "CHOICES",
    "KINDS",
    "PURPOSES",
    "ConsentQuery",
    "ConsentRow",
    "ErasureRequest",
    "erasure_requests",
    "search_consent",
]

KINDS = ("consent", "withdrawal", "erasure")
PURPOSES = ("analytics", "personalization")
CHOICES = ("granted", "denied")


@dataclass(frozen=True)
class ConsentQuery:
    sites: tuple[str, ...]  # the sites searched (those the officer may see, or one of them)
    receipt_id: str = ""
    visitor_key: str = ""
    since: date | None = None
    until: date | None = None
    kind: str = ""
    purpose: str = ""
    choice: str = ""

    def describe(self) -> str:
        """The search as logged: every criterion given, but not a visitor key's value (the
        admin action log holds no visitor key, so that erasure has nothing to find there)."""
        given = {
            "receipt": self.receipt_id, "visitor": "(a visitor key)" if self.visitor_key else "",
            "since": self.since or "", "until": self.until or "", "kind": self.kind,
            "purpose": self.purpose, "choice": self.choice, "sites": ",".join(self.sites),
        }  # fmt: skip
        return " ".join(f"{k}={v}" for k, v in given.items() if v)


@dataclass(frozen=True)
class ConsentRow:
    receipt_id: str
    site: str
    visitor_key: str
    kind: str
    analytics: bool
    personalization: bool
    method: str
    notice_version: str
    recorded_at: datetime
    expires_at: datetime
    log_index: int | None


def _conditions(query: ConsentQuery) -> tuple[list[str], dict[str, Any]]:
    where = ["site IN {sites:Array(String)}"]
    parameters: dict[str, Any] = {"sites": list(query.sites)}
    if query.receipt_id:
        where.append("receipt_id = {receipt:String}")
        parameters["receipt"] = query.receipt_id
    if query.visitor_key:
        where.append("visitor_key = {visitor:String}")
        parameters["visitor"] = query.visitor_key
    if query.since:
        where.append("recorded_at >= {since:DateTime64(3, 'UTC')}")
        parameters["since"] = datetime.combine(query.since, time(), UTC)
    if query.until:
        where.append("recorded_at < {until:DateTime64(3, 'UTC')}")
        parameters["until"] = datetime.combine(query.until + timedelta(days=1), time(), UTC)
    if query.kind in KINDS:
        where.append("kind = {kind:String}")
        parameters["kind"] = query.kind
    if query.purpose in PURPOSES:  # a column name from the fixed list, never the input
        where.append(f"{query.purpose} = {{granted:Bool}}")
        parameters["granted"] = query.choice != "denied"
    elif query.choice in CHOICES:
        granted = "(analytics OR personalization)"
        where.append(granted if query.choice == "granted" else f"NOT {granted}")
    return where, parameters


def search_consent(
    store: Store, query: ConsentQuery, limit: int, offset: int = 0
) -> tuple[list[ConsentRow], bool]:
    """One page of matching records, and whether there are more."""
    where, parameters = _conditions(query)
    rows = store.rows(
        "SELECT receipt_id, site, visitor_key, kind, analytics, personalization, method, "
        "notice_version, recorded_at, expires_at FROM consent_records "
        f"WHERE {' AND '.join(where)} ORDER BY recorded_at DESC, receipt_id "
        "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        parameters | {"limit": limit + 1, "offset": offset},
    )
    receipts = [str(row[0]) for row in rows[:limit]]
    indices = {
        str(receipt): int(index)
        for receipt, index in store.rows(
            "SELECT receipt_id, min(log_index) FROM consent_log "
            "WHERE receipt_id IN {receipts:Array(String)} GROUP BY receipt_id",
            {"receipts": receipts},
        )
    }
    found = [
        ConsentRow(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            bool(r[4]),
            bool(r[5]),
            str(r[6]),
            str(r[7]),
            r[8],
            r[9],
            indices.get(str(r[0])),
        )
        for r in rows[:limit]
    ]
    return found, len(rows) > limit


@dataclass(frozen=True)
class ErasureRequest:
    request_receipt_id: str
    site: str
    visitor_key: str
    method: str
    requested_at: datetime
    erasure_receipt_id: str | None
    erased_at: datetime | None
    rows_deleted: dict[str, int]


def erasure_requests(
    store: Store, sites: tuple[str, ...], limit: int, offset: int = 0
) -> tuple[list[ErasureRequest], bool]:
    """Withdrawals newest first, each with its erasure once carried out."""
    rows = store.rows(
        "SELECT w.receipt_id, w.site, w.visitor_key, w.method, w.recorded_at, "
        "e.receipt_id, e.recorded_at, e.rows_deleted FROM ("
        "  SELECT receipt_id, site, visitor_key, method, recorded_at FROM consent_records "
        "  WHERE kind = 'withdrawal' AND site IN {sites:Array(String)}) AS w "
        "LEFT JOIN ("
        "  SELECT JSONExtractString(entry, 'request_receipt_id') AS request, receipt_id, "
        "         recorded_at, JSONExtractRaw(entry, 'rows_deleted') AS rows_deleted "
        "  FROM consent_records WHERE kind = 'erasure' AND site IN {sites:Array(String)}"
        ") AS e ON e.request = w.receipt_id "
        "ORDER BY w.recorded_at DESC, w.receipt_id LIMIT {limit:UInt32} OFFSET {offset:UInt32} "
        "SETTINGS join_use_nulls = 1",
        {"sites": list(sites), "limit": limit + 1, "offset": offset},
    )
    found = [
        ErasureRequest(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            r[4],
            None if r[5] is None else str(r[5]),
            r[6],
            {str(t): int(n) for t, n in orjson.loads(r[7]).items()} if r[7] else {},
        )
        for r in rows[:limit]
    ]
    return found, len(rows) > limit
