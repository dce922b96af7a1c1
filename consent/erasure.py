"""Erasure: a withdrawal of analytics consent or a delete request removes the visitor's data.

Each run takes the withdrawals that have no erasure yet, deletes the visitor's rows from
every table that holds ``site`` and ``visitor_key`` columns (found in ``system.columns``, so tables
added later are covered too), checks by query that none is left, and records an erasure
leaf per request with the number of rows it removed.

Deletes are ``ALTER TABLE ... DELETE`` mutations run synchronously: the parts are
rewritten without the rows, not merely masked. On a cluster they run on every node, and
the check counts the rows on every replica of every shard: a receipt is written only
once no node holds a row of the visitor. Two tables are kept on purpose: the
consent records and the log are the proof of consent that GDPR Art. 7(1) requires and
hold the pseudonym only, never events.

Events a collector accepted just before the withdrawal may still sit in its spool; the
``before_erase`` hook (the in-process writer's flush) runs first, and ``settle`` delays
requests so that other collector processes have flushed theirs.

Rows can still land after an erasure: a derivation (``INSERT ... SELECT``) that read the
visitor's events before the delete and wrote after it, or a collector that had not yet
heard of the withdrawal. So every run also sweeps the visitors erased in the last
``sweep`` (2 hours by default): rows of theirs found again are deleted, unless the
visitor has granted consent anew since. In one scheduler the derivations and erasure
also never run at once (``Job.personal``).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clearsignal.clock import utc_now
from consent.database import Database
from consent.entries import Erasure
from consent.errors import ErasureError
from consent.ledger import ConsentLedger

__all__ = ["KEPT_TABLES", "SWEEP", "Eraser", "ErasureRun", "personal_tables"]

KEPT_TABLES = ("consent_records", "consent_log")
SWEEP = timedelta(hours=2)


def personal_tables(database: Database, columns: tuple[str, ...]) -> list[str]:
    """Every stored (MergeTree) table with all of ``columns``, except the proof of consent.

    Found in ``system.columns``, so tables added later are covered too; erasure looks for
    ``visitor_key``, the retention job for ``site`` and ``expires_at``. On a cluster, the
    name is the table read and written (``t``, over the stored ``t_local``).
    """
    rows = database.rows(
        "SELECT replaceRegexpOne(t.name, '_local$', '') FROM system.tables AS t "
        "WHERE t.database = currentDatabase() AND t.engine LIKE '%MergeTree' "
        "AND t.name NOT IN {kept:Array(String)} "
        "AND t.name IN (SELECT table FROM system.columns WHERE database = currentDatabase() "
        "  AND name IN {columns:Array(String)} GROUP BY table "
        "  HAVING count() = length({columns:Array(String)})) "
        "ORDER BY 1",
        {"kept": [*KEPT_TABLES, *(f"{t}_local" for t in KEPT_TABLES)], "columns": list(columns)},
    )
    return [str(name) for (name,) in rows]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class _Request:
    receipt_id: str
    site: str
    visitor_key: str


@dataclass
class ErasureRun:
    erased: list[str] = field(default_factory=list)  # erasure receipt ids
    rows_deleted: dict[str, int] = field(default_factory=dict)  # table -> rows
    late_rows_deleted: dict[str, int] = field(default_factory=dict)  # found by the sweep


class Eraser:
    def __init__(
        self,
        database: Database,
        ledger: ConsentLedger,
        before_erase: Callable[[], object] = _nothing,
        settle: timedelta = timedelta(0),
        clock: Callable[[], datetime] = utc_now,
        sweep: timedelta = SWEEP,
    ) -> None:
        self._db = database
        self._ledger = ledger
        self._before_erase = before_erase
        self._settle = settle
        self._clock = clock
        self._sweep = sweep
        self._lock = threading.Lock()

    def pending(self) -> list[_Request]:
        rows = self._db.rows(
            "SELECT receipt_id, site, visitor_key FROM consent_records "
            "WHERE kind = 'withdrawal' AND recorded_at <= {until:DateTime64(3, 'UTC')} "
            "AND receipt_id NOT IN (SELECT JSONExtractString(entry, 'request_receipt_id') "
            "  FROM consent_records WHERE kind = 'erasure') "
            "ORDER BY recorded_at LIMIT 1 BY receipt_id",
            {"until": self._clock() - self._settle},
        )
        return [_Request(str(r), str(s), str(k)) for r, s, k in rows]

    def personal_tables(self) -> list[str]:
        """Every stored table with a visitor_key column, except the proof of consent."""
        return personal_tables(self._db, ("visitor_key",))

    def run_once(self) -> ErasureRun:
        with self._lock:
            run = ErasureRun()
            requests = self.pending()
            if requests:
                self._before_erase()
                self._carry_out(requests, run)
            self._sweep_recent(run)
            return run

    def _carry_out(self, requests: list[_Request], run: ErasureRun) -> None:
        by_site: dict[str, set[str]] = defaultdict(set)
        for request in requests:
            by_site[request.site].add(request.visitor_key)
        deleted: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for table in self.personal_tables():
            for site, keys in by_site.items():
                for key, rows in self._erase(table, site, sorted(keys)).items():
                    deleted[(site, key)][table] = rows
                    run.rows_deleted[table] = run.rows_deleted.get(table, 0) + rows
        for request in requests:
            counts = deleted.get((request.site, request.visitor_key), {})
            erasure = Erasure(request.site, request.visitor_key, request.receipt_id, counts)
            run.erased.append(self._ledger.record_erasure(erasure).receipt_id)

    def _sweep_recent(self, run: ErasureRun) -> None:
        """Delete rows that landed after the erasure of a visitor erased within ``sweep``
        and not granted consent again since."""
        rows = self._db.rows(
            "SELECT site, visitor_key FROM consent_records "
            "WHERE (site, visitor_key) IN (SELECT site, visitor_key FROM consent_records "
            "  WHERE kind = 'erasure' AND recorded_at >= {since:DateTime64(3, 'UTC')}) "
            "GROUP BY site, visitor_key "
            "HAVING argMax(kind, recorded_at) != 'consent' OR NOT argMax(analytics, recorded_at)",
            {"since": self._clock() - self._sweep},
        )
        by_site: dict[str, list[str]] = defaultdict(list)
        for site, key in rows:
            by_site[str(site)].append(str(key))
        for table in self.personal_tables() if by_site else []:
            for site, keys in by_site.items():
                late = sum(self._erase(table, site, sorted(keys)).values())
                if late:
                    run.late_rows_deleted[table] = run.late_rows_deleted.get(table, 0) + late

    def _erase(self, table: str, site: str, keys: list[str]) -> dict[str, int]:
        where = "site = {site:String} AND visitor_key IN {keys:Array(String)}"
        parameters = {"site": site, "keys": keys}
        counts = {
            str(key): int(n)
            for key, n in self._db.rows(
                f"SELECT visitor_key, count() FROM `{table}` WHERE {where} GROUP BY visitor_key",
                parameters,
            )
        }
        # ``counts`` reads one replica of each shard (what the receipt reports); the
        # delete and its check cover every replica, one that missed a write included.
        # On one node, ``counts`` already says what is held.
        held = f"SELECT count() FROM {self._db.everywhere(table)} WHERE {where}"
        present = (
            int(self._db.rows(held, parameters)[0][0]) if self._db.cluster else sum(counts.values())
        )
        if present:
            self._db.alter(table, f"DELETE WHERE {where} SETTINGS mutations_sync = 2", parameters)
            left = int(self._db.rows(held, parameters)[0][0])
            if left:
                raise ErasureError(
                    f"{left} rows of {len(keys)} visitors are still in {table} after "
                    "the erasure; the erasure will be retried on the next run"
                )
        return counts
