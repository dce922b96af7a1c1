"""Drains the spool into ClickHouse: in batches, on size, on a timer and at shutdown.

A background thread asks the spool for the fsynced records after its cursor
(``Spool.read``) and inserts their rows as they were spooled (``JSONCompactEachRow``,
see ``collector.ingest.rows``): Python only checks each record's frame and joins the
bytes; ClickHouse parses them, without the GIL. Each insert carries a deduplication
token naming the spool range, whose end is saved first (``INTENDED``): a try that
failed, or was cut short by a crash, is tried again over the same range, with the same
token, however much has been spooled since. Only then does the cursor move
(``Spool.commit``).
``flush`` writes everything spooled so far (erasure, the demo's "Run jobs now"). When the store is down it backs off (up to 30 s) and keeps the spool;
nothing is dropped. Rows that are replayed after a crash carry the same event ids and
collapse in the ReplacingMergeTree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from aggregator.errors import StoreError
from aggregator.store.client import Store
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.rows import EVENT_COLUMNS, ROW_FORMAT, ROW_SETTINGS
from collector.ingest.spool import Spool
from collector.ingest.spool_format import INTENDED, Cursor, SpoolBatch

__all__ = ["SpoolWriter"]

log = logging.getLogger("clearsignal.spool")


class SpoolWriter:
    def __init__(
        self,
        spool: Spool,
        store: Store,
        metrics: CollectorMetrics,
        batch_rows: int = 50_000,
        interval: float = 1.0,
        max_read_bytes: int = 16 * 1024 * 1024,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.spool = spool
        self.store = store
        self.metrics = metrics
        self.batch_rows = batch_rows
        self.interval = interval
        self.max_read_bytes = max_read_bytes
        self.cursor = Cursor.load(spool.directory)
        self._intended = Cursor.load_intended(spool.directory, self.cursor)
        self._stop = threading.Event()
        self._draining = threading.Lock()
        self._sleep = sleep or self._stop.wait
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        name = f"spool-writer-{self.spool.directory.name}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self, flush: bool = True) -> None:
        """Stop the thread; with ``flush``, try once more to write everything spooled."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if flush:
            try:
                self.flush()
            except StoreError as exc:
                log.warning("shutdown flush incomplete, the spool keeps the rest: %s", exc)

    def flush(self) -> int:
        """Write everything spooled so far to the store; returns rows written."""
        written = 0
        while wrote := self.drain_once():
            written += wrote
        return written

    def backlog(self) -> int:
        return self.spool.backlog(self.cursor)

    def _run(self) -> None:
        delay = self.interval
        while not self._stop.is_set():
            try:
                wrote = self.drain_once()
                self.last_error = None
                delay = self.interval
                if wrote < self.batch_rows:
                    # Less than a full batch: wait for more. Every insert makes a part in
                    # ClickHouse, so a few large inserts beat many small ones.
                    self._sleep(self.interval)
            except StoreError as exc:
                self.metrics.write_failures.inc()
                self.last_error = str(exc)
                log.warning("store write failed, retrying in %.1f s: %s", delay, exc)
                self._sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                self.metrics.spool_backlog_bytes.set(self.backlog())

    def drain_once(self) -> int:
        """Write one batch of durable records after the cursor; returns rows read."""
        with self._draining:
            batch = self.spool.read(
                self.cursor, self.batch_rows, self.max_read_bytes, until=self._intended
            )
            if batch.count and self._intended is None:
                batch.end.save(self.spool.directory, INTENDED)
                self._intended = batch.end
            if batch.count and not self.store_batch(batch):
                return 0  # not yet: the same records come again next time
            if batch.end != self.cursor:
                self.spool.commit(batch.end)
                self.cursor = batch.end
            self._intended = None
            return batch.count

    def store_batch(self, batch: SpoolBatch) -> bool:
        """Insert the batch's rows as spooled; False to keep them for a later run."""
        self.store.insert_formatted(
            "events",
            EVENT_COLUMNS,
            batch.rows,
            ROW_FORMAT,
            settings={**ROW_SETTINGS, "insert_deduplication_token": batch.token},
        )
        self.metrics.written.inc(batch.count)
        return True
