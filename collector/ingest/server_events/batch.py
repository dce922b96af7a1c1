"""Valid server events into rows, dropping what must not be stored, for the endpoint and
the importer alike: a kind the sender may not send, an id twice in the batch, a time
before the site's retention or in the future. The customer reference becomes its keyed
pseudonym here, once per reference and batch."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from clearsignal.settings import SiteSettings
from collector.ingest.drops import DropReason
from collector.ingest.pipeline import MAX_CLOCK_SKEW_MS
from collector.ingest.rows import clickhouse_time
from collector.ingest.server_events.kinds import ServerEvent
from collector.ingest.server_events.rows import server_row
from consent.customer_links import CustomerKeys

__all__ = ["RowBatch", "batch_rows"]


@dataclass
class RowBatch:
    rows: list[list[Any]] = field(default_factory=list)
    dropped: dict[DropReason, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def drop(self, reason: DropReason, index: int, detail: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        self.errors.append({"index": index, "error": reason.value, "detail": detail})


def batch_rows(
    site: SiteSettings,
    site_key: bytes,
    events: Iterable[tuple[int, ServerEvent]],
    kinds: Collection[str],
    received_ms: int,
    source: str,
) -> RowBatch:
    """The rows of ``events`` (with their index in the body or file) that may be stored."""
    batch = RowBatch()
    oldest = received_ms - site.retention_days * 86_400_000
    newest = received_ms + MAX_CLOCK_SKEW_MS
    seen: set[str] = set()
    pseudonyms = CustomerKeys(site_key)
    received = clickhouse_time(received_ms)
    for index, event in events:
        ts = event.at  # ms since the epoch: the wire's RFC 3339 text, parsed
        if event.kind not in kinds:
            batch.drop(DropReason.OUT_OF_SCOPE, index, f"this key may not send {event.kind!r}")
        elif event.id in seen:
            batch.drop(DropReason.DUPLICATE, index, "the id is twice in this batch")
        elif ts < oldest:
            batch.drop(DropReason.TOO_OLD, index, "older than the site's retention")
        elif ts > newest:
            batch.drop(DropReason.IN_FUTURE, index, "in the future")
        else:
            seen.add(event.id)
            pseudonym = pseudonyms.of(event.customer)
            batch.rows.append(
                server_row(site.id, pseudonym, event, ts, source, received, site.retention_days)
            )
    return batch
