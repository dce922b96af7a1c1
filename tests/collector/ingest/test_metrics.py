"""The ingest tally as a scrape reads it: Prometheus text format, cumulative buckets."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from collector.ingest.drops import DropReason
from collector.ingest.metrics import LATENCY_BUCKETS, CollectorMetrics


def samples(metrics: CollectorMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_latency_buckets_are_cumulative_and_a_bound_counts_as_within_it() -> None:
    metrics = CollectorMetrics()
    for seconds in (0.0001, 0.001, 0.0011, 0.3, 9.0):
        metrics.ingest.observe(202, seconds)
    metrics.ingest.observe(400, 0.002)
    found = samples(metrics)

    def bucket(le: str, status: str = "202") -> float:
        return found["clearsignal_ingest_request_seconds_bucket", (("le", le), ("status", status))]

    assert bucket("0.0005") == 1
    assert bucket("0.001") == 2  # le: less than or equal
    assert bucket("0.0025") == 3
    assert bucket("0.25") == 3
    assert bucket("0.5") == 4
    assert bucket(str(LATENCY_BUCKETS[-1])) == 4
    assert bucket("+Inf") == 5
    assert found["clearsignal_ingest_request_seconds_count", (("status", "202"),)] == 5
    assert (
        abs(found["clearsignal_ingest_request_seconds_sum", (("status", "202"),)] - 9.3022) < 1e-9
    )
    assert bucket("+Inf", "400") == 1


def test_events_are_counted_per_site_and_reason() -> None:
    metrics = CollectorMetrics()
    metrics.ingest.count_accepted("demo", 3)
    metrics.ingest.count_accepted("demo", 2)
    metrics.ingest.count_dropped("demo", DropReason.BOT, 4)
    metrics.ingest.count_dropped("shop", DropReason.BOT, 1)
    found = samples(metrics)
    assert found["clearsignal_events_accepted_total", (("site", "demo"),)] == 5
    assert found["clearsignal_events_dropped_total", (("reason", "bot"), ("site", "demo"))] == 4
    assert found["clearsignal_events_dropped_total", (("reason", "bot"), ("site", "shop"))] == 1
