"""Rows whose consent the store could not confirm when they arrived, checked once it can.

During a store outage the ingest endpoint cannot ask whether a browser id it has not
seen lately holds an analytics grant. It neither refuses the batch nor stores it as
identified: it spools the rows, pseudonymised as usual, in a spool of their own
(``<data_dir>/spool/unverified``). ``UnverifiedWriter`` drains that spool like the main
writer, once its records are ``delay`` seconds old (so that decisions other collectors
kept during the outage have reached the store, ``consent.pending``), and asks the store
about each visitor key in one query.

A row of this spool is an events row plus one column: the measurement key the pipeline
made for it as well (from the address and user agent it never keeps). Rows of keys
whose current consent grants analytics are inserted as identified; the others are counted
anonymously under that key, as they would have been had the store answered, or, when the
site is strict or the browser asked not to be counted (no key), dropped and counted
(``no_consent``). Nothing identified is stored without a verified grant, and nothing
acknowledged is lost.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from collector.ingest.drops import DropReason
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.rows import EVENT_COLUMNS, ROW_FORMAT, ROW_SETTINGS, rows_json
from collector.ingest.spool import Spool
from collector.ingest.spool_format import SpoolBatch
from collector.ingest.writer import SpoolWriter
from consent.queries import consented_sql

__all__ = ["UNVERIFIED_SPOOL", "UnverifiedWriter"]

UNVERIFIED_SPOOL = "unverified"
log = logging.getLogger("clearsignal.spool")

_SITE, _KEY, _IDENTITY, _RECEIVED = (
    EVENT_COLUMNS.index(c) for c in ("site", "visitor_key", "identity", "ingested_at")
)


class UnverifiedWriter(SpoolWriter):
    def __init__(
        self,
        spool: Spool,
        store: Store,
        metrics: CollectorMetrics,
        delay: float = 30.0,
        clock: Any = time.time,
        **options: Any,
    ) -> None:
        super().__init__(spool, store, metrics, **options)
        self.delay = delay
        self._clock = clock

    def store_batch(self, batch: SpoolBatch) -> bool:
        rows: list[list[Any]] = orjson.loads(b"[" + batch.rows + b"]")
        newest = max(float(row[_RECEIVED]) for row in rows)
        if newest > self._clock() - self.delay:
            return False
        granted = self._granted({(row[_SITE], row[_KEY]) for row in rows})
        kept: list[list[Any]] = []
        refused: dict[str, int] = {}
        for row in rows:
            fallback = row.pop()
            if (row[_SITE], row[_KEY]) in granted:
                kept.append(row)
            elif fallback:
                row[_KEY], row[_IDENTITY] = fallback, "measurement"
                kept.append(row)
            else:
                refused[row[_SITE]] = refused.get(row[_SITE], 0) + 1
        if kept:
            self.store.insert_formatted(
                "events",
                EVENT_COLUMNS,
                rows_json(kept),
                ROW_FORMAT,
                settings={
                    **ROW_SETTINGS,
                    "insert_deduplication_token": f"unverified:{batch.token}",
                },
            )
            self.metrics.written.inc(len(kept))
        for site, count in refused.items():
            self.metrics.ingest.count_dropped(site, DropReason.NO_CONSENT, count)
        if refused:
            log.info(
                "dropped %d unverified events without an analytics grant", sum(refused.values())
            )
        return True

    def _granted(self, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        sites = sorted({site for site, _ in keys})
        found = self.store.rows(
            consented_sql(
                Purpose.ANALYTICS,
                "site IN {sites:Array(String)} AND visitor_key IN {keys:Array(String)}",
                "now64(3, 'UTC')",
            ),
            {"sites": sites, "keys": sorted({key for _, key in keys})},
        )
        return {(str(site), str(key)) for site, key in found} & keys
