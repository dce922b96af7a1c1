"""Visitor buckets: a derivation over many events done a share of the visitors at a time.

The sessions and signals jobs compute per visitor (sessions split by window functions,
rules over a visitor's own events), so their statements can run over disjoint sets of
visitors, ``cityHash64(visitor_key) % buckets = bucket``, one after the other, with the
same rows as a whole. A statement's memory then follows the events of one bucket, not of
the site: on a small server under a per-query memory limit (docs/configuration.md, the
small-server profile) a backfill over 10 M events fits. ``buckets`` is one per
``BUCKET_EVENTS`` events the derivation reads.
"""

from __future__ import annotations

from typing import Any

from aggregator.store.client import Store

__all__ = ["BUCKET_EVENTS", "IN_BUCKET", "bucket_count", "each_bucket"]

BUCKET_EVENTS = 1_000_000
IN_BUCKET = "cityHash64(visitor_key) % {buckets:UInt64} = {bucket:UInt64}"
"""The condition of a visitor in the statement's bucket (``buckets``, ``bucket`` parameters)."""


def bucket_count(store: Store, count_sql: str, parameters: dict[str, Any]) -> int:
    """How many buckets: ``count_sql`` counts the events the derivation reads."""
    events = int(store.scalar(count_sql, parameters) or 0)
    return max(1, -(-events // BUCKET_EVENTS))


def each_bucket(parameters: dict[str, Any], buckets: int) -> list[dict[str, Any]]:
    """``parameters`` once per bucket, with ``buckets`` and ``bucket``."""
    return [parameters | {"buckets": buckets, "bucket": bucket} for bucket in range(buckets)]
