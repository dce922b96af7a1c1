"""Consent decisions recorded while the store does not answer: kept on local disk until it
does, so that a decision is never refused or lost because of an outage.

``PendingDecisions.keep`` appends the rows the ledger could not insert to a JSON-lines
file and fsyncs it before the ledger answers; ``flush`` inserts them into
``consent_records`` once the store answers, skipping any receipt already there (a flush
cut short is repeated without a duplicate), and then empties the file. The rows hold
what ``consent_records`` holds (a pseudonym, never a browser id).
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from consent.database import Database

__all__ = ["RECORD_COLUMNS", "PendingDecisions"]

log = logging.getLogger("clearsignal.consent")

RECORD_COLUMNS = (
    "receipt_id", "site", "visitor_key", "kind", "analytics", "personalization", "method",
    "notice_version", "recorded_at", "expires_at", "entry", "leaf_hash",
)  # fmt: skip
_TIMES = (8, 9)
_BYTES = (10, 11)


def _encode(row: Sequence[Any]) -> bytes:
    values = list(row)
    for index in _TIMES:
        values[index] = values[index].isoformat()
    for index in _BYTES:
        values[index] = base64.b64encode(values[index]).decode()
    return orjson.dumps(values) + b"\n"


def _decode(line: bytes) -> list[Any]:
    values: list[Any] = orjson.loads(line)
    for index in _TIMES:
        values[index] = datetime.fromisoformat(values[index])
    for index in _BYTES:
        values[index] = base64.b64decode(values[index])
    return values


class PendingDecisions:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()

    def keep(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append ``rows`` (``RECORD_COLUMNS``) and fsync them."""
        data = b"".join(_encode(row) for row in rows)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)

    def count(self) -> int:
        with self._lock:
            return len(self._read())

    def flush(self, database: Database) -> int:
        """Insert the kept decisions the store does not hold yet; returns how many were
        inserted. Raises the store's error (and keeps the file) if it still does not answer."""
        with self._lock:
            rows = self._read()
            if not rows:
                return 0
            ids = [row[0] for row in rows]
            held = {
                str(found)
                for (found,) in database.rows(
                    "SELECT receipt_id FROM consent_records WHERE receipt_id IN {ids:Array(String)}",
                    {"ids": ids},
                )
            }
            missing = [row for row in rows if row[0] not in held]
            if missing:
                database.insert("consent_records", missing, RECORD_COLUMNS)
            self.path.unlink()
            log.info("wrote %d consent decisions kept during a store outage", len(missing))
            return len(missing)

    def _read(self) -> list[list[Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        # A line torn by a crash before its fsync was never acknowledged.
        return [_decode(line) for line in data.split(b"\n") if line and line.endswith(b"]")]
