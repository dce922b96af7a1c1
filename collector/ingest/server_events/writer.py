"""Server events from their spool into the store, each joined to the visitor it counts for.

As the unverified spool's writer does for browser events, this writer decides consent
when it writes, against the store: a row counts for the customer's most recently linked
visitor that holds a current analytics grant (``consent.customer_links``); failing that,
it is kept only if the site declared another lawful basis for its kind (unlinked:
``visitor_key`` stays empty and ``basis`` names the basis); otherwise it is dropped and
counted as ``no_consent``. So the endpoint never waits for the store, a store outage
loses nothing (the spool keeps the rows and the writer retries), and a decision is read
as it stands when the row is stored.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.purposes import LawfulBasis
from clearsignal.settings import ServerKind, Settings, SiteSettings
from collector.ingest.drops import DropReason
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.rows import ROW_FORMAT, rows_json
from collector.ingest.server_events.batch import RowBatch, batch_rows
from collector.ingest.server_events.kinds import ServerEvent
from collector.ingest.server_events.rows import (
    BASIS,
    CUSTOMER,
    KIND,
    SERVER_EVENT_COLUMNS,
    VISITOR,
)
from collector.ingest.spool import Spool
from collector.ingest.spool_format import SpoolBatch
from collector.ingest.writer import SpoolWriter
from consent.customer_links import CustomerLinks

__all__ = [
    "SERVER_EVENT_SPOOL",
    "ServerEventWriter",
    "insert_server_rows",
    "join_to_visitors",
    "rows_of_operator",
]

SERVER_EVENT_SPOOL = "server-events"
log = logging.getLogger("clearsignal.spool")


CONSENT = LawfulBasis.CONSENT.value


def join_to_visitors(
    settings: Settings, links: CustomerLinks, rows: list[list[Any]], now: datetime
) -> tuple[list[list[Any]], dict[tuple[str, DropReason], int]]:
    """The rows that may be stored, each with its visitor and basis filled in, and the
    others counted by (site, reason)."""
    by_site: dict[str, list[list[Any]]] = defaultdict(list)
    for row in rows:
        by_site[row[0]].append(row)
    kept: list[list[Any]] = []
    dropped: dict[tuple[str, DropReason], int] = defaultdict(int)
    for site_id, site_rows in by_site.items():
        site = settings.site(site_id)
        if site is None:
            dropped[site_id, DropReason.UNKNOWN_SITE] += len(site_rows)
            continue
        visitors = links.consenting_visitors(
            site_id, sorted({row[CUSTOMER] for row in site_rows}), now
        )
        # Per row, only dict lookups: a few hundred thousand rows a second pass here.
        declared = {
            kind.value: basis.value for kind, basis in site.touchpoints.lawful_bases.items()
        }
        for row in site_rows:
            visitor = visitors.get(row[CUSTOMER])
            if visitor is not None:
                row[VISITOR], row[BASIS] = visitor, CONSENT
            elif (basis := declared.get(row[KIND])) is not None:
                row[BASIS] = basis
            else:
                dropped[site_id, DropReason.NO_CONSENT] += 1
                continue
            kept.append(row)
    return kept, dropped


def rows_of_operator(
    settings: Settings,
    links: CustomerLinks,
    site: SiteSettings,
    site_key: bytes,
    events: Iterable[tuple[int, ServerEvent]],
    source: str,
) -> tuple[RowBatch, list[list[Any]], dict[tuple[str, DropReason], int]]:
    """What the endpoint and its writer make of valid events, in one step, for a process
    that holds the store itself (``clearsignal import``, the simulator): every kind is
    allowed, as for a key of every kind. Returns the batch (with its drops), the rows to
    store and the rows refused when joined."""
    kinds = [kind.value for kind in ServerKind]
    batch = batch_rows(site, site_key, events, kinds, int(time.time() * 1000), source)
    kept, refused = join_to_visitors(settings, links, batch.rows, utc_now())
    return batch, kept, refused


def insert_server_rows(store: Store, rows: list[list[Any]], token: str) -> None:
    """``optimize_on_insert=0``: the engine does not collapse an event sent twice within
    the block as it writes it (about a third of the insert's work); every read takes
    ``server_events FINAL``, which collapses it there as it does across blocks."""
    store.insert_formatted(
        "server_events",
        SERVER_EVENT_COLUMNS,
        rows_json(rows),
        ROW_FORMAT,
        settings={"insert_deduplication_token": token, "optimize_on_insert": 0},
    )


class ServerEventWriter(SpoolWriter):
    def __init__(
        self, spool: Spool, store: Store, metrics: CollectorMetrics, settings: Settings
    ) -> None:
        super().__init__(spool, store, metrics)
        self.settings = settings
        self.links = CustomerLinks(store)

    def store_batch(self, batch: SpoolBatch) -> bool:
        rows: list[list[Any]] = orjson.loads(b"[" + batch.rows + b"]")
        kept, dropped = join_to_visitors(self.settings, self.links, rows, utc_now())
        if kept:
            insert_server_rows(self.store, kept, f"server:{batch.token}")
        for (site_id, reason), count in dropped.items():
            self.metrics.server_events.count_dropped(site_id, reason, count)
        self.metrics.server_events_written.inc(len(kept))
        if dropped:
            log.info("dropped %d server events: %s", sum(dropped.values()), dict(dropped))
        return True
