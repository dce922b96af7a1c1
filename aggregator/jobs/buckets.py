"""Visitor buckets: a derivation over many events done a share of the visitors at a time.

The sessions and signals jobs compute per visitor (sessions split by window functions,
rules over a visitor's own events), so their statements can run over disjoint sets of
visitors, ``cityHash64(visitor_key) % buckets = bucket``, one after the other, with the
same rows as a whole. A statement's memory then follows the events of one bucket, not of
the site: on a small server under a per-query memory limit (docs/configuration.md, the
small-server profile) a backfill over 10 M events fits. ``buckets`` is one per
``events_per_bucket`` events the derivation reads: ``BUCKET_EVENTS``, or fewer where the
engine limits a query's memory (``max_memory_usage``) to less than that many events hold.
"""

from __future__ import annotations

from typing import Any

from aggregator.store.client import Store

__all__ = [
    "BUCKET_EVENTS",
    "BYTES_PER_EVENT",
    "IN_BUCKET",
    "MIN_BUCKET_EVENTS",
    "bucket_count",
    "each_bucket",
    "events_per_bucket",
]

BUCKET_EVENTS = 1_000_000
MIN_BUCKET_EVENTS = 20_000
BYTES_PER_EVENT = 1024
"""A derivation's memory per event of its bucket, with room to spare: the sessions' sort
before their window functions passed 256 MiB over 1 M events (bench/small_server.py)."""
IN_BUCKET = "cityHash64(visitor_key) % {buckets:UInt64} = {bucket:UInt64}"
"""The condition of a visitor in the statement's bucket (``buckets``, ``bucket`` parameters)."""


def events_per_bucket(query_memory_limit: int) -> int:
    """The events of one bucket under a per-query memory limit in bytes (0: none)."""
    if query_memory_limit <= 0:
        return BUCKET_EVENTS
    return max(MIN_BUCKET_EVENTS, min(BUCKET_EVENTS, query_memory_limit // BYTES_PER_EVENT))


def bucket_count(store: Store, count_sql: str, parameters: dict[str, Any]) -> int:
    """How many buckets: ``count_sql`` counts the events the derivation reads."""
    events = int(store.scalar(count_sql, parameters) or 0)
    size = events_per_bucket(int(float(store.setting("max_memory_usage") or 0)))
    return max(1, -(-events // size))


def each_bucket(parameters: dict[str, Any], buckets: int) -> list[dict[str, Any]]:
    """``parameters`` once per bucket, with ``buckets`` and ``bucket``."""
    return [parameters | {"buckets": buckets, "bucket": bucket} for bucket in range(buckets)]
