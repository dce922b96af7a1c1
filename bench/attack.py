"""The collector under attack and through a store outage, in one run.

    .venv/bin/python bench/attack.py [--seconds 20]

1. Hostile client. ``clearsignal serve`` (embedded engine) answers a steady stream of
   normal single-event requests (50 a second, each from another address) while one
   client sends maximum-size hostile batches as fast as it can: 8 click events whose
   url, ref and element strings are ``a-a-a-...`` near their length limits (~50 KB), the
   text that made the old scrubber backtrack. Three phases: no hostile client; a hostile
   client from one address (the per-address limit answers most of it 429 before parsing);
   the same with every rate limit raised out of reach, so that every hostile batch is
   parsed and scrubbed (the heavy lane and the linear scrubber alone). Prints the normal
   requests' p50 and p99 per phase against the 50 ms target.
2. Store outage. ``clearsignal serve`` on a loopback ClickHouse HTTP endpoint answers a
   mix of anonymous visitors and visitors with fresh browser ids whose grant only the
   store knows; the endpoint is stopped for 20 s, then started again. Prints, before,
   during and after the outage, requests, answers >= 500 and p99, and then checks that
   every acknowledged event was stored once.

Each phase also prints the server's peak resident memory (VmHWM).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.store.client import open_store
from aggregator.store.migrations import migrate
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, StoreSettings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.serve import Serve

ORIGIN = "http://127.0.0.1:8000"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
TARGET_P99_MS = 50.0
UNLIMITED = {
    f"CLEARSIGNAL_INGEST__{name}": "1000000000"
    for name in (
        "SITE_EVENTS_PER_SECOND", "SITE_BURST", "CLIENT_EVENTS_PER_SECOND", "CLIENT_BURST",
        "ADDRESS_EVENTS_PER_SECOND", "ADDRESS_BURST",
    )
}  # fmt: skip


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id, "type": "pageview", "ts": int(time.time() * 1000),
        "url": f"{ORIGIN}/p", **fields,
    }  # fmt: skip


def hostile_body() -> bytes:
    run = ("a-" * 1000)[: 2000 - len(ORIGIN) - 1]  # url, ref and selector at their bound
    events = [
        event(
            secrets.token_hex(8), type="click", url=f"{ORIGIN}/{run}", ref=f"{ORIGIN}/{run}",
            el={"sel": run, "label": run[:1200]},
        )
        for _ in range(8)
    ]  # fmt: skip
    return json.dumps({"site": "demo", "events": events}).encode()


def post(connection: http.client.HTTPConnection, path: str, body: bytes, address: str) -> int:
    connection.request(
        "POST", path, body,
        {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": CHROME,
         "X-Forwarded-For": address},
    )  # fmt: skip
    response = connection.getresponse()
    response.read()
    return response.status


def hostile_client(port: int, stop: Any, counts: Any) -> None:
    """A separate process: maximum-size hostile batches, one after the other, one address."""
    body = hostile_body()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        try:
            status = post(connection, "/api/events", body, "198.51.100.66")
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        with counts.get_lock():
            counts[0 if status == 202 else 1 if status == 429 else 2] += 1


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int, took: float) -> None:
        self.seconds.append(took)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def p(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)


def steady(
    port: int,
    seconds: float,
    rate: float,
    make_body: Callable[[int], bytes],
    answered: Callable[[int, int], None] = lambda n, status: None,
) -> Latencies:
    """Requests at ``rate`` a second for ``seconds``, each timed from its planned start;
    ``answered(n, status)`` hears each answer."""
    found = Latencies()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    n = 0
    while (planned := started + n / rate) < started + seconds:
        time.sleep(max(0.0, planned - time.perf_counter()))
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        try:
            status = post(connection, "/api/events", make_body(n), address)
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        found.add(status, time.perf_counter() - planned)
        answered(n, status)
        n += 1
    connection.close()
    return found


def peak_rss_mb(serve: Serve) -> float:
    assert serve.process is not None
    for line in Path(f"/proc/{serve.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def single(n: int) -> bytes:
    return json.dumps({"site": "demo", "events": [event(secrets.token_hex(8))]}).encode()


def hostile_phases(
    seconds: float, work: Path
) -> list[tuple[str, Latencies, tuple[int, int, int], float]]:
    results = []
    for name, env, hostile in (
        ("no hostile client", {}, False),
        ("hostile client, default limits", {}, True),
        ("hostile client, limits lifted", UNLIMITED, True),
    ):
        serve = Serve(work / uuid.uuid4().hex / "data", env=env)
        serve.start()
        stop, counts = multiprocessing.Event(), multiprocessing.Array("l", 3)
        attacker = multiprocessing.Process(target=hostile_client, args=(serve.port, stop, counts))
        try:
            steady(serve.port, 2, 50, single)  # warm up
            if hostile:
                attacker.start()
                time.sleep(1)
            normal = steady(serve.port, seconds, 50, single)
            results.append((name, normal, (counts[0], counts[1], counts[2]), peak_rss_mb(serve)))
        finally:
            stop.set()
            if hostile:
                attacker.join(timeout=30)
            serve.stop()
    return results


def outage(seconds: float, work: Path) -> None:
    clickhouse = ClickHouseHttpServer(work / "clickhouse")
    clickhouse.start()
    database = f"bench_{uuid.uuid4().hex[:8]}"
    data_dir = work / "outage" / "data"
    settings = Settings(
        data_dir=data_dir, store=StoreSettings(dsn=clickhouse.url, database=database)
    )
    keys = SiteKeys(settings.site_key_dir)
    keys.key("demo")
    store = open_store(clickhouse.url, database)
    migrate(store)
    ledger = ConsentLedger(store, settings, keys)
    browsers = [secrets.token_urlsafe(16) for _ in range(400)]
    for browser_id in browsers:
        ledger.record(ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: True}, "1", "api"))
    serve = Serve(
        data_dir,
        env={
            "CLEARSIGNAL_STORE__DSN": clickhouse.url,
            "CLEARSIGNAL_STORE__DATABASE": database,
            "CLEARSIGNAL_INGEST__UNVERIFIED_DELAY_SECONDS": "2",
        },
    )
    serve.start()
    sent: dict[int, list[str]] = {}
    acknowledged: set[str] = set()
    served = 0

    def mixed(n: int) -> bytes:
        ids = sent[served + n] = [secrets.token_hex(8) for _ in range(5)]
        visitor = browsers[n % len(browsers)] if n % 2 else None  # fresh ids: never cached
        return json.dumps(
            {"site": "demo", "visitor": visitor, "events": [event(i) for i in ids]}
        ).encode()

    def answered(n: int, status: int) -> None:
        if status == 202:
            acknowledged.update(sent[served + n])

    phases: list[tuple[str, Latencies]] = []
    try:
        for name, length in (("before", seconds / 2), ("during the 20 s outage", 20.0),
                             ("after", seconds / 2)):  # fmt: skip
            if name.startswith("during"):
                clickhouse.stop()
            elif name == "after":
                clickhouse.start()
            found = steady(serve.port, length, 100, mixed, answered)
            served += len(found.seconds)
            phases.append((name, found))
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            status, body = serve.readyz()
            if (
                status == 200
                and body["spool_backlog_bytes"] == 0 == body["unverified_backlog_bytes"]
            ):
                break
            time.sleep(1)
        rss = peak_rss_mb(serve)
    finally:
        serve.stop()
    stored = [str(r[0]) for r in store.rows("SELECT event_id FROM events FINAL")]
    print("\n2. A 20 s store outage, mixed load (100 requests/s, half with a fresh browser id)")
    print(f"   {'phase':<26} {'requests':>9} {'>= 500':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, found in phases:
        print(
            f"   {name:<26} {len(found.seconds):>9,} {found.errors:>7} {found.p(0.5):>8.2f} {found.p(0.99):>8.2f}"
        )
    print(
        f"   events acknowledged {len(acknowledged):,}; stored {len(stored):,} "
        f"({len(set(stored)):,} distinct; all acknowledged stored: {acknowledged <= set(stored)}); "
        f"server peak RSS {rss:.0f} MiB"
    )
    store.command(f"DROP DATABASE `{database}`")
    store.close()
    clickhouse.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clearsignal-attack-") as tmp:
        work = Path(tmp)
        print(
            f"1. Normal single-event requests, 50/s for {args.seconds:g} s, target p99 <= {TARGET_P99_MS:g} ms"
        )
        print(
            f"   {'phase':<32} {'p50 ms':>8} {'p99 ms':>8} {'hostile 202/429/other':>22} {'peak RSS':>9}"
        )
        for name, normal, (accepted, limited, other), rss in hostile_phases(args.seconds, work):
            verdict = "ok" if normal.p(0.99) <= TARGET_P99_MS and not normal.errors else "MISSED"
            print(
                f"   {name:<32} {normal.p(0.5):>8.2f} {normal.p(0.99):>8.2f} "
                f"{accepted:>8,}/{limited:>7,}/{other:<5,} {rss:>6.0f} MiB  {verdict}"
            )
        outage(args.seconds, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
