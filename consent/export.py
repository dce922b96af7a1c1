"""``clearsignal audit export``: a site's consent records, as a regulator asks for them.

One row per recorded decision, withdrawal and erasure in the time range, oldest first,
with its place in the transparency log (empty while the sequencer has not integrated it)
and the exact entry bytes, so each row can be checked against the log.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from clearsignal.clock import EPOCH, wire_time
from consent.database import Database

__all__ = ["EXPORT_COLUMNS", "export_records"]

EXPORT_COLUMNS = (
    "receipt_id", "kind", "site", "subject", "analytics", "personalization", "method",
    "notice_version", "recorded_at", "expires_at", "log_index", "leaf_hash", "entry",
)  # fmt: skip


def _rows(
    database: Database, site: str, since: datetime | None, until: datetime | None
) -> Iterator[dict[str, Any]]:
    rows = database.rows(
        "SELECT r.receipt_id, r.kind, r.site, r.visitor_key, r.analytics, r.personalization, "
        "r.method, r.notice_version, r.recorded_at, r.expires_at, l.log_index, "
        "hex(r.leaf_hash), r.entry "
        "FROM consent_records AS r "
        "LEFT JOIN (SELECT receipt_id, min(log_index) AS log_index FROM consent_log "
        "  GROUP BY receipt_id) AS l ON l.receipt_id = r.receipt_id "
        "WHERE r.site = {site:String} "
        "AND r.recorded_at >= {since:DateTime64(3, 'UTC')} "
        "AND r.recorded_at < {until:DateTime64(3, 'UTC')} "
        "ORDER BY r.recorded_at, r.receipt_id "
        "SETTINGS join_use_nulls = 1",
        {
            "site": site,
            "since": since or EPOCH,
            "until": until or datetime(2200, 1, 1, tzinfo=UTC),
        },
    )
    for row in rows:
        record = dict(zip(EXPORT_COLUMNS, row, strict=True))
        record["leaf_hash"] = str(record["leaf_hash"]).lower()
        for name in ("recorded_at", "expires_at"):
            record[name] = wire_time(record[name])
        if isinstance(record["entry"], bytes):
            record["entry"] = record["entry"].decode()
        yield record


def export_records(
    database: Database,
    site: str,
    out: TextIO,
    file_format: str = "jsonl",
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the records to ``out`` as ``csv`` or ``jsonl``; returns how many."""
    count = 0
    if file_format == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in _rows(database, site, since, until):
            writer.writerow(record)
            count += 1
    elif file_format == "jsonl":
        for record in _rows(database, site, since, until):
            out.write(orjson.dumps(record).decode() + "\n")
            count += 1
    else:
        raise ValueError(f"export format must be csv or jsonl, not {file_format!r}")
    return count
