"""Ingest, erasure, retention and salts on a real cluster: rows go through the
Distributed tables once, and what must be gone is gone from every replica of every shard."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.jobs.retention import RetentionJob
from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from collector.ingest.metrics import CollectorMetrics
from collector.ingest.spool import Spool
from collector.ingest.spool_format import Cursor
from collector.ingest.writer import SpoolWriter
from consent.entries import ConsentDecision
from consent.erasure import Eraser
from consent.ledger import ConsentLedger, RecordedConsent
from consent.pseudonyms import SiteKeys
from consent.salts import DailySalts
from tests.cluster.conftest import held_on_each_node
from tests.support.clickhouse_cluster import ClickHouseCluster
from tests.support.spooled_events import event_row, spool_rows

VISITOR = "visitor_key = {key:String}"


def per_shard(cluster: ClickHouseCluster, held: list[int]) -> list[list[int]]:
    """Counts in node order, grouped by shard: [[replica 1, replica 2], ...]."""
    replicas = len(cluster.shards[0])
    return [held[i : i + replicas] for i in range(0, len(held), replicas)]


def test_spooled_rows_are_stored_once_on_their_shard_even_when_a_range_is_replayed(
    tmp_path: Path, cluster: ClickHouseCluster, cluster_store: Store
) -> None:
    spool = Spool(tmp_path / "spool")
    rows = [event_row(f"e{i:05d}", visitor_key=f"{i:032x}") for i in range(300)]
    spool_rows(spool, rows[:150], rows[150:])
    assert SpoolWriter(spool, cluster_store, CollectorMetrics()).flush() == 300
    # A crash between the insert and the cursor's move: the next writer sends it all again,
    # with the same deduplication tokens, and each shard drops the blocks it already has.
    Cursor(0, 0).save(spool.directory)
    assert SpoolWriter(spool, cluster_store, CollectorMetrics()).flush() == 300
    spool.close()

    assert cluster_store.scalar("SELECT count() FROM events") == 300  # no FINAL needed
    shards = per_shard(cluster, held_on_each_node(cluster_store, "events", "1", {}))
    assert all(len(set(replicas)) == 1 for replicas in shards), shards  # replicas agree
    assert all(replicas[0] > 50 for replicas in shards), shards  # both shards hold rows
    assert sum(replicas[0] for replicas in shards) == 300


def _decide(ledger: ConsentLedger, browser_id: str, analytics: bool) -> RecordedConsent:
    choices = {Purpose.ANALYTICS: analytics, Purpose.PERSONALIZATION: analytics}
    decision = ConsentDecision(
        site="demo", browser_id=browser_id, choices=choices, notice_version="1", method="banner"
    )
    return ledger.record(decision)


def _add_rows(store: Store, visitor_key: str, events: int) -> None:
    now = datetime.now(UTC)
    store.insert(
        "events",
        [["demo", visitor_key, secrets.token_hex(8), "pageview", now] for _ in range(events)],
        ["site", "visitor_key", "event_id", "type", "ts"],
    )
    store.insert(
        "signals",
        [["demo", visitor_key, "price_uncertainty", 1, now, now, 3.0, now, now + timedelta(30)]],
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "computed_at", "expires_at"],
    )  # fmt: skip


def test_an_erasure_deletes_the_visitor_on_every_replica_of_every_shard_before_its_receipt(
    cluster: ClickHouseCluster, cluster_store: Store, cluster_settings: Settings
) -> None:
    ledger = ConsentLedger(cluster_store, cluster_settings, SiteKeys(cluster_settings.site_key_dir))
    visitors: dict[str, RecordedConsent] = {}
    for _ in range(12):
        browser_id = secrets.token_urlsafe(16)
        visitors[browser_id] = _decide(ledger, browser_id, True)
        _add_rows(cluster_store, visitors[browser_id].visitor_key, events=3)
    # The visitor leaving lives on the second shard; the store is connected to the first.
    shard_of = {
        str(key): int(shard)
        for key, shard in cluster_store.rows("SELECT DISTINCT visitor_key, _shard_num FROM events")
    }
    leaving = next(b for b, r in visitors.items() if shard_of[r.visitor_key] == 2)
    key = {"key": visitors[leaving].visitor_key}
    # A row only one replica holds (a replica that took a write the other missed).
    last_node = cluster_store.nodes[-1]
    last_node.insert(
        "events_local", [["demo", key["key"], "only-here", "click", datetime.now(UTC)]],
        ["site", "visitor_key", "event_id", "type", "ts"],
    )  # fmt: skip
    assert sum(held_on_each_node(cluster_store, "events", VISITOR, key)) > 0

    _decide(ledger, leaving, False)
    run = Eraser(cluster_store, ledger).run_once()

    assert len(run.erased) == 1
    for table in ("events", "signals"):
        assert held_on_each_node(cluster_store, table, VISITOR, key) == [0] * len(cluster.nodes)
    assert run.rows_deleted["events"] >= 3
    assert run.rows_deleted["signals"] == 1
    others = [r.visitor_key for b, r in visitors.items() if b != leaving]
    assert cluster_store.scalar(
        "SELECT count() FROM events WHERE visitor_key IN {keys:Array(String)}", {"keys": others}
    ) == 3 * len(others)


def test_retention_deletes_expired_rows_on_every_node(
    cluster: ClickHouseCluster, cluster_store: Store, cluster_settings: Settings
) -> None:
    # Older than the site's retention (rows already past expires_at could be dropped by
    # the table's TTL before the job runs).
    now, old = datetime.now(UTC), datetime.now(UTC) - timedelta(days=400)
    cluster_store.insert(
        "signals",
        [["demo", f"{i:032x}", "price_uncertainty", 1, old, old, 1.0, now, now + timedelta(1)]
         for i in range(40)],
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "computed_at", "expires_at"],
    )  # fmt: skip
    assert min(held_on_each_node(cluster_store, "signals", "1", {})) > 0
    run = RetentionJob(cluster_store, cluster_settings).run_once()
    assert run.rows_deleted["signals"] == 40
    assert held_on_each_node(cluster_store, "signals", "1", {}) == [0] * len(cluster.nodes)


def test_an_expired_salt_is_destroyed_on_every_node(
    cluster: ClickHouseCluster, cluster_store: Store
) -> None:
    old = datetime.now(UTC) - timedelta(days=3)
    DailySalts(cluster_store, clock=lambda: old).today()
    assert held_on_each_node(cluster_store, "salts", "1", {})[0] == 1  # home: the first shard
    assert DailySalts(cluster_store).destroy_expired() == [old.date()]
    assert held_on_each_node(cluster_store, "salts", "1", {}) == [0] * len(cluster.nodes)
