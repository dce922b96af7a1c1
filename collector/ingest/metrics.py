"""Prometheus metrics of one collector process (served at /metrics, text format).

The ingest path counts every request: it keeps its numbers in ``IngestTally`` as plain
ints and floats, which a scrape reads through a custom collector. A ``prometheus_client``
metric takes a lock and a label lookup per count, more than the count itself. Everything
else uses ``prometheus_client``'s metrics as they are.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["UNKNOWN_SITE_LABEL", "CollectorMetrics", "IngestTally"]

# Unknown site ids come from the request: never use them as label values.
UNKNOWN_SITE_LABEL = "(unknown)"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class IngestTally(Collector):
    """Accepted and dropped events, and request latency, of one ingest path: browser
    events (``POST /api/events``) or server events (``POST /api/server-events``).

    Counted on the event loop; read by a scrape (the GIL makes each read of a dict whole).
    A spool writer's thread may count drops of its own reasons too (``no_consent``), which
    the event loop never counts: each key has one writer. Label values are bounded:
    configured sites, drop reasons, status codes.
    """

    def __init__(
        self,
        prefix: str = "clearsignal_events",
        latency_name: str = "clearsignal_ingest_request_seconds",
        path: str = "POST /api/events",
    ) -> None:
        self.prefix, self.latency_name, self.path = prefix, latency_name, path
        self.accepted: dict[str, int] = {}
        self.dropped: dict[tuple[str, str], int] = {}
        # status -> requests per bucket (the last one: over every bound), and their sum
        self.latency: dict[int, tuple[list[int], list[float]]] = {}

    def count_accepted(self, site: str, events: int) -> None:
        self.accepted[site] = self.accepted.get(site, 0) + events

    def count_dropped(self, site: str, reason: StrEnum, events: int) -> None:
        key = (site, reason.value)
        self.dropped[key] = self.dropped.get(key, 0) + events

    def observe(self, status: int, seconds: float) -> None:
        found = self.latency.get(status)
        if found is None:
            found = self.latency[status] = ([0] * (len(LATENCY_BUCKETS) + 1), [0.0])
        counts, total = found
        counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        total[0] += seconds

    def collect(self) -> Iterator[Metric]:
        accepted = CounterMetricFamily(
            f"{self.prefix}_accepted", "Events accepted and durably spooled.", labels=["site"]
        )
        for site, count in list(self.accepted.items()):
            accepted.add_metric([site], count)
        yield accepted
        dropped = CounterMetricFamily(
            f"{self.prefix}_dropped", "Events not stored, by reason.", labels=["site", "reason"]
        )
        for (site, reason), count in list(self.dropped.items()):
            dropped.add_metric([site, reason], count)
        yield dropped
        latency = HistogramMetricFamily(
            self.latency_name,
            f"Time to answer {self.path}, including the spool's fsync.",
            labels=["status"],
        )
        for status, (counts, total) in list(self.latency.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append((str(bound) if bound != float("inf") else "+Inf", cumulative))
            latency.add_metric([str(status)], buckets, total[0])
        yield latency


class CollectorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.ingest = IngestTally()
        self.registry.register(self.ingest)
        self.server_events = IngestTally(
            "clearsignal_server_events",
            "clearsignal_server_events_request_seconds",
            "POST /api/server-events",
        )
        self.registry.register(self.server_events)
        self.written = Counter(
            "clearsignal_events_written",
            "Events written from the spool to ClickHouse.",
            registry=self.registry,
        )
        self.server_events_written = Counter(
            "clearsignal_server_events_written",
            "Server events written from their spool to ClickHouse.",
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

        self.links_refused = Counter(
            "clearsignal_customer_links_refused",
            "Customer links refused (unsigned, malformed, expired or forged tokens), by reason.",
            ["site", "reason"],
            registry=self.registry,
        )

    def count_refused_link(self, site: str, reason: str) -> None:
        self.links_refused.labels(site, reason).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
