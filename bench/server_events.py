"""Server-event ingest: POST /api/server-events with NDJSON batches of 500, beside browser
events (POST /api/events, 20-event batches) on the same server in the same run.

    .venv/bin/python bench/server_events.py [--duration 10] [--connections 8] [--customers 1000]

It starts ``clearsignal serve`` (embedded engine, fresh data dir) with the demo site
linking customers, makes an API key with ``clearsignal keys create``, and links
``--customers`` customers to browsers with an analytics grant over HTTP (consent, then a
signed link token), so that every server event is joined to a visitor and written, not
dropped. Then wrk drives each path in turn, ``--rounds`` times, and the median of each is
printed: events/s accepted (from /metrics), request latency, then the time the writer
took to store everything accepted (server events joined to their visitors) and the
server's peak RSS. Target: >= 50,000 server events/s. The ratio of the two medians says
how the server-event path compares with the browser's on the same machine at the same
moment (the host's speed varies from day to day; the ratio much less).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import ORIGIN, counters, free_port, http_get, parse_wrk, stop, wait_until, wrk

from consent.customer_links import link_token

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "_post_server_events.lua"
LINK_SECRET = "bench-link-secret-0123456789abcdef0123"
TARGET = 50_000
LIMIT = 10_000_000


def _sites() -> str:
    from clearsignal.settings import demo_site

    site = demo_site().model_dump(mode="json")
    site["touchpoints"] = {"link_secret": LINK_SECRET}
    return json.dumps([site])


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "CLEARSIGNAL_DATA_DIR": str(data_dir),
        "CLEARSIGNAL_SITES": _sites(),
        "CLEARSIGNAL_INGEST__SITE_EVENTS_PER_SECOND": str(LIMIT),
        "CLEARSIGNAL_INGEST__SITE_BURST": str(LIMIT),
        "CLEARSIGNAL_INGEST__SITE_SERVER_EVENTS_PER_SECOND": str(LIMIT),
        "CLEARSIGNAL_INGEST__SITE_SERVER_BURST": str(LIMIT),
        "CLEARSIGNAL_LIMITS__CONSENT_PER_SITE_PER_SECOND": str(LIMIT),
        "CLEARSIGNAL_LIMITS__CONSENT_SITE_BURST": str(LIMIT),
    }
    env.pop("CLEARSIGNAL_CONFIG", None)
    return env


def _post(port: int, path: str, body: dict[str, object], address: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain", "Origin": ORIGIN, "X-Forwarded-For": address},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def link_customers(port: int, customers: int) -> None:
    expires = int(time.time()) + 3600
    for i in range(customers):
        browser = secrets.token_urlsafe(16)
        address = f"10.9.{i // 250}.{i % 250 + 1}"
        decision = {
            "site": "demo", "visitor": browser, "notice_version": "1", "method": "banner",
            "purposes": {"analytics": True, "personalization": False},
        }  # fmt: skip
        assert _post(port, "/api/consent", decision, address) == 201
        token = link_token(LINK_SECRET.encode(), "demo", f"bench-c{i}", expires)
        link = {"site": "demo", "visitor": browser, "link": token}
        assert _post(port, "/api/visitor/link", link, address) == 201


def server_counters(port: int) -> dict[str, float]:
    _, body = http_get(f"http://127.0.0.1:{port}/metrics")
    found: dict[str, float] = {}
    for line in body.decode().splitlines():
        match = re.match(
            r"clearsignal_server_events_(accepted|written|dropped)_total\S* (\S+)", line
        )
        if match:
            found[match[1]] = found.get(match[1], 0.0) + float(match[2])
    return found


def wrk_server(port: int, key: str, customers: int, seconds: float, connections: int) -> object:
    env = {
        **os.environ, "BENCH_EVENTS": "500", "BENCH_KEY": key,
        "BENCH_CUSTOMERS": str(customers), "BENCH_TAG": str(secrets.randbits(28)),
        "BENCH_AT": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)),
    }  # fmt: skip
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(LUA),
               f"http://127.0.0.1:{port}/api/server-events"]  # fmt: skip
    output = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return parse_wrk(output)


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make system-deps does it)")
    workdir = Path(tempfile.mkdtemp(prefix="clearsignal-bench-server-", dir=BENCH))
    data_dir, port = workdir / "data", free_port()
    env = _env(data_dir)
    clearsignal = Path(sys.executable).with_name("clearsignal")
    made = subprocess.run(
        [str(clearsignal), "keys", "create", "demo", "--name", "bench"],
        cwd=workdir, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key = made.stdout.strip().splitlines()[-1]
    process = subprocess.Popen(
        [str(clearsignal), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir, env=env, stdout=(workdir / "serve.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(
            lambda: http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200, "serve", process, 120
        )
        started = time.monotonic()
        link_customers(port, args.customers)
        print(f"linked {args.customers} customers to consenting visitors in "
              f"{time.monotonic() - started:.1f} s", flush=True)  # fmt: skip
        print(f"machine: {os.cpu_count()} cores; wrk -t1; {args.rounds} rounds of "
              f"{args.duration:g} s each, taking turns", flush=True)  # fmt: skip
        server_rates, browser_rates = [], []
        wrk_server(port, key, args.customers, 2, args.connections)  # warm up
        for _ in range(args.rounds):
            before, clock = server_counters(port), time.monotonic()
            result = wrk_server(port, key, args.customers, args.duration, args.connections)
            after = server_counters(port)
            accepted = after.get("accepted", 0) - before.get("accepted", 0)
            rate = accepted / max(time.monotonic() - clock, args.duration)
            server_rates.append(rate)
            print(
                f"server events, NDJSON batches of 500: {rate:10,.0f} events/s  "
                f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "  # type: ignore[attr-defined]
                f"non-2xx {result.non_2xx}",
                flush=True,
            )  # type: ignore[attr-defined]
            url = f"http://127.0.0.1:{port}/api/events"
            before, clock = counters(port), time.monotonic()
            browser = wrk(url, 20, args.duration, 50)
            after = counters(port)
            accepted = after.get("accepted", 0) - before.get("accepted", 0)
            rate = accepted / max(time.monotonic() - clock, args.duration)
            browser_rates.append(rate)
            print(f"browser events, 20-event batches:     {rate:10,.0f} events/s  "
                  f"p50 {browser.p50_ms:6.1f} ms  p99 {browser.p99_ms:6.1f} ms", flush=True)  # fmt: skip
        drain_started = time.monotonic()
        while True:
            totals = server_counters(port)
            if totals.get("written", 0) + totals.get("dropped", 0) >= totals.get("accepted", 0):
                break
            if time.monotonic() - drain_started > 300:
                break
            time.sleep(0.5)
        drained = time.monotonic() - drain_started
        server, browser = statistics.median(server_rates), statistics.median(browser_rates)
        print(f"server events: {totals.get('accepted', 0):,.0f} accepted, "
              f"{totals.get('written', 0):,.0f} written joined to their visitors, "
              f"{totals.get('dropped', 0):,.0f} dropped; the writer finished "
              f"{drained:.1f} s after the last request")  # fmt: skip
        print(f"peak RSS of the server: {peak_rss_mib(process.pid):.0f} MiB")
        print(f"median server events/s: {server:,.0f} (NDJSON, 500 a batch); "
              f"median browser events/s: {browser:,.0f} (20 a batch); "
              f"server/browser {server / max(browser, 1):.2f}")  # fmt: skip
        print(f"target >= {TARGET:,} server events/s: {'met' if server >= TARGET else 'MISSED'}")
        return 0
    finally:
        stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
