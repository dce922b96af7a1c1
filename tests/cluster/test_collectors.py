"""Many collector processes, one cluster: real ``clearsignal serve`` processes
(``jobs.in_process = false``), each connected to another node of the 2-shard cluster."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store.client import Store
from clearsignal.settings import Settings
from consent.erasure import Eraser
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.cluster.conftest import held_on_each_node
from tests.support.clickhouse_cluster import ClickHouseCluster
from tests.support.senders import Senders, assert_exactly_once, post_consent, wait_for
from tests.support.serve import Serve

BOUND_SECONDS = 1.0  # [ingest] consent_cache_seconds of these collectors
UNLIMITED = {
    f"CLEARSIGNAL_INGEST__{name}": "1000000000"
    for name in ("SITE_EVENTS_PER_SECOND", "SITE_BURST", "ADDRESS_EVENTS_PER_SECOND",
                 "ADDRESS_BURST", "CLIENT_EVENTS_PER_SECOND", "CLIENT_BURST")
}  # fmt: skip


@pytest.fixture
def cluster(two_shards: ClickHouseCluster) -> ClickHouseCluster:
    return two_shards


@pytest.fixture
def collectors(
    tmp_path: Path, cluster: ClickHouseCluster, cluster_settings: Settings, cluster_store: Store
) -> Iterator[list[Serve]]:
    """Two collectors of one deployment (the same site keys), on the first and second node."""
    store = cluster_settings.store
    SiteKeys(cluster_settings.site_key_dir).key("demo")
    started: list[Serve] = []
    for number, url in enumerate(cluster.urls[:2], start=1):
        data_dir = tmp_path / f"collector-{number}"
        # Every collector of a deployment holds the same site keys.
        shutil.copytree(cluster_settings.site_key_dir, data_dir / "keys" / "sites")
        serve = Serve(data_dir, env={
            **UNLIMITED,
            "CLEARSIGNAL_STORE__DSN": url, "CLEARSIGNAL_STORE__DATABASE": store.database,
            "CLEARSIGNAL_STORE__CLUSTER": str(store.cluster),
            "CLEARSIGNAL_STORE__NODES": json.dumps(store.nodes),
            "CLEARSIGNAL_JOBS__IN_PROCESS": "false",
            "CLEARSIGNAL_INGEST__CONSENT_CACHE_SECONDS": str(BOUND_SECONDS),
        })  # fmt: skip
        serve.start()
        started.append(serve)
    yield started
    for serve in started:
        serve.stop()


def stored_ids(store: Store) -> list[str]:
    return [str(event_id) for (event_id,) in store.rows("SELECT event_id FROM events")]


@pytest.mark.slow
def test_two_collectors_one_killed_under_load_store_every_acknowledged_event_once(
    collectors: list[Serve], cluster_store: Store
) -> None:
    first, second = collectors
    with Senders(first.port, threads=2) as to_first, Senders(second.port, threads=2) as to_second:
        wait_for(lambda: to_first.count() >= 1000, 120, "1000 events acknowledged by the first")
        first.kill()  # mid-stream
        killed_at = to_first.count()
        first.start()  # replays its spool into the cluster
        wait_for(lambda: to_first.count() >= killed_at + 500, 120, "events after the restart")
    assert to_first.failed_connections > 0, "the senders never saw the collector die"
    assert not to_first.refused + to_second.refused
    for serve in collectors:
        serve.stop()  # SIGTERM: the spool is flushed
    acknowledged = to_first.acknowledged | to_second.acknowledged
    stored = stored_ids(cluster_store)
    assert_exactly_once(acknowledged, stored)
    per_node = held_on_each_node(cluster_store, "events", "1", {})
    assert min(per_node) > 0, per_node
    print(
        f"2 collectors, kill -9 of one after {killed_at:,} of its events: {len(acknowledged):,} "
        f"acknowledged, {len(stored):,} stored ({per_node} per shard), each once"
    )


def test_a_withdrawal_through_one_collector_stops_the_other_within_the_bound_and_is_erased(
    collectors: list[Serve], cluster_store: Store, cluster_settings: Settings
) -> None:
    first, second = collectors
    browser_id = secrets.token_urlsafe(16)
    assert post_consent(second.port, browser_id, analytics=True) == 201
    with Senders(second.port, threads=1, visitors=[browser_id]) as to_second:
        wait_for(lambda: to_second.count() >= 100, 60, "the visitor's events on the second")
        assert post_consent(first.port, browser_id, analytics=False) == 201
        time.sleep(BOUND_SECONDS + 1.0)  # the second keeps receiving the visitor's events
    time.sleep(1.5)  # its writer stores what it took while it still trusted the grant
    ledger = ConsentLedger(
        cluster_store, cluster_settings, SiteKeys(second.data_dir / "keys" / "sites")
    )
    key = {"key": ledger.visitor_key("demo", browser_id)}
    assert sum(held_on_each_node(cluster_store, "events", "visitor_key = {key:String}", key))
    run = Eraser(cluster_store, ledger).run_once()
    assert len(run.erased) == 1
    for table in ("events", "signals", "sessions"):
        held = held_on_each_node(cluster_store, table, "visitor_key = {key:String}", key)
        assert held == [0, 0], (table, held)
    # Past the bound, the second no longer stores the visitor's events under their key.
    with Senders(second.port, threads=1, visitors=[browser_id]) as later:
        wait_for(lambda: later.count() + len(later.refused) >= 50, 60, "later events answered")
    second.stop()  # its spool is flushed
    held = held_on_each_node(cluster_store, "events", "visitor_key = {key:String}", key)
    assert held == [0, 0], held
