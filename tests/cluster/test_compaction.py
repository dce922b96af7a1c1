"""Compaction on the real clusters: each node rewrites its own partitions that a delete
through the cluster left largely dead, and every shard keeps its live rows."""

from __future__ import annotations

from aggregator.store.client import Store
from aggregator.store.compaction import compact
from tests.aggregator.store.test_compaction import stored_and_live

SESSION = (
    "INSERT INTO sessions (site, visitor_key, identity, session_start, session_end, events, "
    "pageviews, entry_path, exit_path, steps, computed_at, expires_at) "
    "SELECT 'demo', toString(number), 'analytics', toDateTime64('2026-11-02', 3, 'UTC'), "
    "toDateTime64('2026-11-02', 3, 'UTC'), 1, 1, '/', '/', [], now64(3), "
    "toDateTime('2030-01-01', 'UTC') FROM numbers(200)"
)


def test_each_node_rewrites_its_own_dead_partitions(cluster_store: Store) -> None:
    cluster_store.command(SESSION)
    cluster_store.delete_where("sessions", "toUInt32(visitor_key) % 2 = 0")
    before = [stored_and_live(node, "sessions_local") for node in cluster_store.nodes]
    assert all(p and p["202611"][0] > p["202611"][1] > 0 for p in before), before
    assert compact(cluster_store, "sessions") == ["202611"] * len(cluster_store.nodes)
    after = [stored_and_live(node, "sessions_local") for node in cluster_store.nodes]
    assert after == [{"202611": (live, live)} for _, live in (p["202611"] for p in before)]
    assert cluster_store.scalar("SELECT count() FROM sessions") == 100
