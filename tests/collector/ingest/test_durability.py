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
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from tests.conftest import serve_clickhouse_http
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.site_requests import CHROME, ORIGIN

CLEARSIGNAL = Path(sys.executable).with_name("clearsignal")
EVENTS_PER_BATCH = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Serve:
    """``clearsignal serve`` in a child process, on its own port and data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "CLEARSIGNAL_DATA_DIR": str(data_dir), **(env or {})}
        self.env.pop("CLEARSIGNAL_CONFIG", None)
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(CLEARSIGNAL), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.data_dir.parent,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while self.readyz()[0] != 200:
            assert self.process.poll() is None, f"serve exited:\n{self.log_tail()}"
            assert time.monotonic() < deadline, f"serve not ready:\n{self.log_tail()}"
            time.sleep(0.1)

    def readyz(self) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        except (OSError, ValueError):
            return 0, {}
        finally:
            connection.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: uvicorn shuts down, the lifespan flushes the spool."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Senders:
    """Threads posting 10-event batches until stopped; they keep the ids that got 202."""

    def __init__(self, port: int, threads: int = 3) -> None:
        self.port = port
        self.acknowledged: set[str] = set()
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
            body = json.dumps(
                {
                    "site": "demo",
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


@pytest.mark.slow
def test_a_20_second_store_outage_loses_nothing_acknowledged(
    tmp_path: Path, own_clickhouse: ClickHouseHttpServer
) -> None:
    database = f"test_{uuid.uuid4().hex[:12]}"
    serve = Serve(
        tmp_path / "data",
        env={"CLEARSIGNAL_STORE__DSN": own_clickhouse.url, "CLEARSIGNAL_STORE__DATABASE": database},
    )
    serve.start()
    readiness: list[tuple[int, int]] = []
    try:
        with Senders(serve.port, threads=2) as senders:
            wait_for(lambda: senders.count() >= 200, 60, "events before the outage")
            own_clickhouse.stop()
            outage_started = time.monotonic()
            before_outage = senders.count()
            while time.monotonic() - outage_started < 20:
                status, body = serve.readyz()
                readiness.append((status, int(body.get("spool_backlog_bytes", 0))))
                time.sleep(1)
            during_outage = senders.count() - before_outage
            own_clickhouse.start()
            wait_for(lambda: senders.count() >= before_outage + during_outage + 200, 60, "more")
        assert not senders.refused, senders.refused[:3]
        assert senders.failed_connections == 0
        assert during_outage >= 500, f"only {during_outage} events acknowledged in the outage"
        assert any(status == 503 for status, _ in readiness), readiness
        assert max(backlog for _, backlog in readiness) > 0, readiness

        # The writer backs off up to 30 s: wait for it to come back and drain.
        wait_for(
            lambda: serve.readyz()[0] == 200 and serve.readyz()[1]["spool_backlog_bytes"] == 0,
            120,
            "the backlog to drain",
        )
        client = clickhouse_connect.get_client(
            host=own_clickhouse.host, port=own_clickhouse.port, database=database
        )
        try:
            stored = [
                row[0] for row in client.query("SELECT event_id FROM events FINAL").result_rows
            ]
            assert_exactly_once(senders.acknowledged, stored)
            print(
                f"20 s outage: {during_outage:,} events acknowledged during it, backlog up to "
                f"{max(backlog for _, backlog in readiness):,} bytes; "
                f"{len(senders.acknowledged):,} acknowledged in all, each stored once"
            )
            client.command(f"DROP DATABASE IF EXISTS `{database}`")
        finally:
            client.close()
    finally:
        serve.stop()
