"""Prometheus metrics of one collector process (served at /metrics, text format)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["UNKNOWN_SITE_LABEL", "CollectorMetrics"]

# Unknown site ids come from the request: never use them as label values.
UNKNOWN_SITE_LABEL = "(unknown)"


class CollectorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.accepted = Counter(
            "clearsignal_events_accepted",
            "Events accepted and durably spooled.",
            ["site"],
            registry=self.registry,
        )
        self.dropped = Counter(
            "clearsignal_events_dropped",
            "Events not stored, by reason.",
            ["site", "reason"],
            registry=self.registry,
        )
        self.ingest_seconds = Histogram(
            "clearsignal_ingest_request_seconds",
            "Time to answer POST /api/events, including the spool's fsync.",
            ["status"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.written = Counter(
            "clearsignal_events_written",
            "Events written from the spool to ClickHouse.",
            registry=self.registry,
        )
        self.write_failures = Counter(
            "clearsignal_store_write_failures",
            "Failed attempts to write a spool batch to ClickHouse (retried).",
            registry=self.registry,
        )
        self.spool_backlog_bytes = Gauge(
            "clearsignal_spool_backlog_bytes",
            "Spooled bytes not yet written to ClickHouse.",
            registry=self.registry,
        )

        # Labelled children by label values: the ingest path counts every request, and
        # looking a child up again through ``labels()`` costs more than the count itself.
        # Label values are bounded: configured sites, drop reasons, status codes.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe_ingest(self, status: int, seconds: float) -> None:
        self._child(self.ingest_seconds, str(status)).observe(seconds)

    def count_accepted(self, site: str, events: int) -> None:
        self._child(self.accepted, site).inc(events)

    def count_dropped(self, site: str, reason: StrEnum, events: int) -> None:
        self._child(self.dropped, site, reason.value).inc(events)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
