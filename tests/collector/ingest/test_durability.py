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

import http.client
import itertools
import json
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from tests.support.serve import Serve
from tests.support.site_requests import CHROME, ORIGIN

EVENTS_PER_BATCH = 10


class Senders:
    """Threads posting 10-event batches until stopped; they keep the ids that got 202.

    With ``visitors``, each batch names one of them (round robin) as its browser id, and
    ``sent_by`` records which browser id each acknowledged event was sent with."""

    def __init__(self, port: int, threads: int = 3, visitors: list[str] | None = None) -> None:
        self.port = port
        self.visitors = visitors
        self.acknowledged: set[str] = set()
        self.sent_by: dict[str, str] = {}
        self.refused: list[str] = []
        self.failed_connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._prefix = uuid.uuid4().hex[:6]
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def __enter__(self) -> Senders:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _batch(self) -> list[str]:
        with self._lock:
            return [f"{self._prefix}{next(self._ids):010x}" for _ in range(EVENTS_PER_BATCH)]

    def _run(self, number: int) -> None:
        self._send_until_stopped(number, None)

    def _send_until_stopped(
        self, number: int, connection: http.client.HTTPConnection | None
    ) -> None:
        for request in itertools.count():
            if self._stop.is_set():
                break
            ids = self._batch()
            now = int(time.time() * 1000)
            visitor = self.visitors[request % len(self.visitors)] if self.visitors else None
            body = json.dumps(
                {
                    "site": "demo",
                    "visitor": visitor,
                    "events": [
                        {"id": i, "type": "pageview", "ts": now, "url": f"{ORIGIN}/p/{i[-2:]}"}
                        for i in ids
                    ],
                }
            )
            headers = {
                "Content-Type": "text/plain",
                "Origin": ORIGIN,
                "User-Agent": CHROME,
                "X-Forwarded-For": f"10.{number}.{request // 256 % 256}.{request % 256}",
            }
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("POST", "/api/events", body, headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                # The server is gone (killed), perhaps in the middle of its answer: the
                # browser would retry; we send new ones.
                if connection is not None:
                    connection.close()
                connection = None
                with self._lock:
                    self.failed_connections += 1
                time.sleep(0.05)
                continue
            with self._lock:
                if response.status == 202 and json.loads(answer)["accepted"] == len(ids):
                    self.acknowledged.update(ids)
                    if visitor is not None:
                        self.sent_by.update(dict.fromkeys(ids, visitor))
                else:
                    self.refused.append(f"{response.status} {answer[:200]!r}")
            time.sleep(0.002)
        if connection is not None:
            connection.close()

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


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


def assert_exactly_once(acknowledged: set[str], stored: list[str]) -> None:
    assert len(stored) == len(set(stored)), "an event is stored more than once"
    missing = acknowledged - set(stored)
    assert not missing, (
        f"{len(missing)} acknowledged events are missing, e.g. {sorted(missing)[:3]}"
    )


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


def post_consent(port: int, browser_id: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = {
        "site": "demo", "visitor": browser_id, "notice_version": "1", "method": "banner",
        "purposes": {"analytics": True, "personalization": False},
    }  # fmt: skip
    try:
        connection.request(
            "POST", "/api/consent", json.dumps(body),
            {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": CHROME},
        )  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


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
