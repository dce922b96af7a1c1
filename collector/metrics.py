"""Prometheus metrics of one collector process (served at /metrics, text format)."""

from __future__ import annotations

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

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
