"""Nothing acknowledged is lost: ``clearsignal serve`` as a real process, killed and starved.

- crash: senders post batches while the server runs; it is killed with SIGKILL mid-stream
  and started again on the same data dir; every event that got a 202 is then in
  ClickHouse exactly once.
- outage: the loopback ClickHouse HTTP endpoint is stopped for 20 s while senders keep
  posting; every post still gets a 202 (the spool holds it), /readyz answers 503 with a
  backlog; once the endpoint is back the backlog drains and every event is stored once.

Senders vary X-Forwarded-For (uvicorn trusts it from 127.0.0.1, as from a load
balancer) so the per-client rate limit sees many visitors, as in production.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store.client import open_store
from aggregator.store.migrations import migrate
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, StoreSettings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.conftest import serve_clickhouse_http
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.senders import Senders, assert_exactly_once, post_consent, wait_for
from tests.support.serve import Serve

_READ_EMBEDDED = """
import json, sys
from aggregator.store.client import open_store
store = open_store("chdb://" + sys.argv[1], "clearsignal")
ids = [row[0] for row in store.rows("SELECT event_id FROM events FINAL")]
print(json.dumps({"ids": ids}))
"""


def stored_ids_in_embedded(data_dir: Path) -> list[str]:
    """Event ids in the embedded store, read by a child process (one process per data dir)."""
    result = subprocess.run(
        [sys.executable, "-c", _READ_EMBEDDED, str(data_dir / "clickhouse")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    ids: list[str] = json.loads(result.stdout.strip().splitlines()[-1])["ids"]
    return ids


@pytest.mark.slow
def test_every_acknowledged_event_survives_a_kill_9_exactly_once(tmp_path: Path) -> None:
    serve = Serve(tmp_path / "data")
    serve.start()
    try:
        with Senders(serve.port) as senders:
            wait_for(lambda: senders.count() >= 1500, 120, "1500 acknowledged events")
            serve.kill()  # mid-stream: senders are still posting
            killed_at = senders.count()
            time.sleep(0.5)
        assert senders.failed_connections > 0, "the senders never saw the server die"
        assert not senders.refused, senders.refused[:3]
        spool = sorted((serve.data_dir / "spool").glob("*.spool"))
        assert spool, "the spool should hold segments after the crash"

        serve.start()  # replays the spool from its cursor
        with Senders(serve.port) as more:
            wait_for(lambda: more.count() >= 200, 60, "events after the restart")
        assert not more.refused, more.refused[:3]
    finally:
        serve.stop()
    stored = stored_ids_in_embedded(serve.data_dir)
    acknowledged = senders.acknowledged | more.acknowledged
    assert killed_at >= 1500
    assert_exactly_once(acknowledged, stored)
    print(
        f"kill -9 after {killed_at:,} acknowledged events; {len(acknowledged):,} acknowledged "
        f"in all, {len(stored):,} rows stored, each acknowledged event once"
    )
    # Nothing is stored that was never sent.
    prefixes = {event_id[:6] for event_id in acknowledged}
    assert {event_id[:6] for event_id in stored} <= prefixes


@pytest.fixture
def own_clickhouse(tmp_path: Path) -> Iterator[ClickHouseHttpServer]:
    """A loopback ClickHouse HTTP endpoint of this test's own: the test stops it."""
    yield from serve_clickhouse_http(tmp_path / "clickhouse-http")


@pytest.mark.slow
def test_a_20_second_store_outage_loses_nothing_acknowledged(
    tmp_path: Path, own_clickhouse: ClickHouseHttpServer
) -> None:
    """Anonymous visitors, visitors whose grant only the store knows (recorded by another
    collector before the outage, never seen by this one), visitors who consent during the
    outage, and visitors with a browser id but no grant, all through a 20 s outage."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    data_dir = tmp_path / "data"
    env = {
        "CLEARSIGNAL_STORE__DSN": own_clickhouse.url,
        "CLEARSIGNAL_STORE__DATABASE": database,
        "CLEARSIGNAL_INGEST__UNVERIFIED_DELAY_SECONDS": "2",
        # A few browser ids send hundreds of events a second here, and in the outage every
        # one counts as its browser id's (its grant cannot be checked): lift the visitor
        # limits, this test is about the outage.
        "CLEARSIGNAL_INGEST__CLIENT_EVENTS_PER_SECOND": "100000",
        "CLEARSIGNAL_INGEST__CLIENT_BURST": "100000",
    }
    settings = Settings(
        data_dir=data_dir, store=StoreSettings(dsn=own_clickhouse.url, database=database)
    )
    site_keys = SiteKeys(settings.site_key_dir)
    site_keys.key("demo")  # made here, then shared with the server through the data dir
    store = open_store(settings.dsn, database)
    migrate(store)
    other_collector = ConsentLedger(store, settings, site_keys)
    granted = [secrets.token_urlsafe(16) for _ in range(20)]
    for browser_id in granted:
        other_collector.record(
            ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: True}, "1", "banner")
        )
    ungranted = [secrets.token_urlsafe(16) for _ in range(3)]
    during = [secrets.token_urlsafe(16) for _ in range(5)]
    serve = Serve(data_dir, env=env)
    serve.start()
    readiness: list[tuple[int, int]] = []
    consent_answers: list[int] = []
    try:
        with (
            Senders(serve.port, threads=2) as anonymous,
            Senders(serve.port, threads=1, visitors=granted) as identified,
            Senders(serve.port, threads=1, visitors=ungranted) as strangers,
        ):
            senders = (anonymous, identified, strangers)
            wait_for(lambda: anonymous.count() >= 200, 60, "events before the outage")
            own_clickhouse.stop()
            outage_started = time.monotonic()
            before_outage = anonymous.count() + identified.count()
            consent_answers = [post_consent(serve.port, browser_id) for browser_id in during]
            with Senders(serve.port, threads=1, visitors=during) as newcomers:
                while time.monotonic() - outage_started < 20:
                    status, body = serve.readyz()
                    readiness.append((status, int(body.get("spool_backlog_bytes", 0))))
                    time.sleep(1)
            during_outage = anonymous.count() + identified.count() - before_outage
            own_clickhouse.start()
            wait_for(lambda: anonymous.count() >= before_outage + 200, 60, "more after it")
        for sent in (*senders, newcomers):
            assert not sent.refused, sent.refused[:3]
            assert sent.failed_connections == 0
        assert consent_answers == [201] * len(during)
        assert during_outage >= 500, f"only {during_outage} events acknowledged in the outage"
        assert any(status == 503 for status, _ in readiness), readiness
        assert max(backlog for _, backlog in readiness) > 0, readiness

        # The writers back off up to 30 s: wait for them to come back and drain.
        def drained() -> bool:
            status, body = serve.readyz()
            return (
                status == 200
                and body["spool_backlog_bytes"] == 0 == body["unverified_backlog_bytes"]
            )

        wait_for(drained, 150, "both spools to drain")
    finally:
        serve.stop()
    stored = {
        str(event_id): (str(identity), str(key))
        for event_id, identity, key in store.rows(
            "SELECT event_id, identity, visitor_key FROM events FINAL"
        )
    }
    try:
        acknowledged = set().union(*(s.acknowledged for s in (*senders, newcomers)))
        assert_exactly_once(
            acknowledged, [row[0] for row in store.rows("SELECT event_id FROM events")]
        )
        key_of = {b: other_collector.visitor_key("demo", b) for b in granted + ungranted + during}
        for sent in (identified, newcomers):
            for event_id, browser_id in sent.sent_by.items():
                assert stored[event_id] == ("analytics", key_of[browser_id])
        strangers_rows = [stored[event_id] for event_id in strangers.sent_by]
        assert strangers_rows
        assert {identity for identity, _ in strangers_rows} == {"measurement"}
        assert not {key for _, key in strangers_rows} & set(key_of.values())
        recorded = store.scalar(
            "SELECT count() FROM consent_records WHERE visitor_key IN {keys:Array(String)}",
            {"keys": [key_of[b] for b in during]},
        )
        assert recorded == len(during)  # kept on disk during the outage, written after
        print(
            f"20 s outage: {during_outage:,} events acknowledged during it, backlog up to "
            f"{max(backlog for _, backlog in readiness):,} bytes; {len(acknowledged):,} "
            f"acknowledged in all, each stored once; {len(identified.sent_by):,} of visitors "
            f"whose grant only the store knew stored as identified, "
            f"{len(strangers_rows):,} of visitors without a grant counted anonymously; "
            f"{len(during)} decisions made during the outage recorded; 0 answers >= 500"
        )
    finally:
        store.command(f"DROP DATABASE IF EXISTS `{database}`")
        store.close()
