"""Ingest throughput: ClearSignal's POST /api/events against a bare Starlette endpoint.

    .venv/bin/python bench/ingest.py [--duration 10] [--connections 50]

In one run on this machine it starts two servers on loopback, each served the same way
(uvicorn, one process, one worker, no access log):

- bare: ``bench/_bare_app.py``, a Starlette endpoint that reads the body and answers 202;
- ours: ``clearsignal serve`` with the embedded engine in a fresh temporary data dir.

Both are driven by the same wrk (one thread, ``bench/_post_events.lua``) with the same
requests: single-event batches, then 20-event batches, each with a fresh event id and
the demo site's Origin. The two servers take turns, ``--rounds`` times per batch size,
and each figure is the median of its rounds: a shared machine's noise then hits both
alike. For ours, accepted events are read from /metrics (so drops are not counted as
throughput) and the spool is checked to drain into ClickHouse at the end. Ours runs with
its per-site rate limit raised above what the machine can send (the limiter still runs
on every request), so that the figure is the ingest path's, not the limit's.
Prints requests/s, p50/p99 latency, events/s and ours/bare ratios.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "_post_events.lua"
ORIGIN = "http://127.0.0.1:8000"  # an allowed origin of the built-in demo site
TARGET_SINGLE_RATIO = 0.5
TARGET_BATCH_EVENTS = 100_000
SITE_LIMIT = 10_000_000  # events/s: far above what one process can take


@dataclass
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str


@dataclass
class Run:
    server: str
    batch: int
    wrk: WrkResult
    events_per_s: float
    dropped: dict[str, float]

    @property
    def accepted_requests_per_s(self) -> float:
        """Requests/s answered 2xx: a refused request is no throughput."""
        w = self.wrk
        return w.requests_per_s * (w.requests - w.non_2xx) / max(w.requests, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until(check: object, what: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with status {process.returncode} while starting")
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not come up within {seconds:.0f} s")


def start_bare(port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "_bare_app:app", "--app-dir", str(BENCH),
        "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def answers() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(answers, "the bare endpoint", process, 30)
    return process


def start_ours(port: int, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    clearsignal = Path(sys.executable).with_name("clearsignal")
    env = {
        **os.environ,
        "CLEARSIGNAL_DATA_DIR": str(data_dir),
        "CLEARSIGNAL_INGEST__SITE_EVENTS_PER_SECOND": str(SITE_LIMIT),
        "CLEARSIGNAL_INGEST__SITE_BURST": str(SITE_LIMIT),
    }
    env.pop("CLEARSIGNAL_CONFIG", None)
    command = [str(clearsignal), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=data_dir.parent, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    wait_until(
        lambda: http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200,
        "clearsignal serve",
        process,
        120,
    )
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    def find(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else default

    return WrkResult(
        requests_per_s=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)", "0us")),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)", "0us")),
        requests=int(find(r"^\s+(\d+) requests in")),
        non_2xx=int(find(r"^\s+Non-2xx or 3xx responses: (\d+)")),
        socket_errors=find(r"^\s+Socket errors: (.*)$", "none"),
    )


def wrk(url: str, batch: int, seconds: float, connections: int) -> WrkResult:
    env = {**os.environ, "BENCH_EVENTS": str(batch), "BENCH_ORIGIN": ORIGIN,
           "BENCH_TAG": str(secrets.randbits(28))}  # fmt: skip
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(LUA), url,
    ]  # fmt: skip
    output = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return parse_wrk(output)


def counters(port: int) -> dict[str, float]:
    """accepted, written and dropped:<reason> totals from /metrics."""
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, status
    found: dict[str, float] = {}
    for line in body.decode().splitlines():
        match = re.match(
            r"clearsignal_events_(accepted|written|dropped)_total(\{[^}]*\})? (\S+)", line
        )
        if not match:
            continue
        kind, labels, value = match.groups()
        reason = re.search(r'reason="([^"]+)"', labels or "")
        name = f"dropped:{reason.group(1)}" if reason else kind
        found[name] = found.get(name, 0.0) + float(value)
    return found


def measure(
    server: str, port: int, batch: int, seconds: float, connections: int, metered: bool
) -> Run:
    url = f"http://127.0.0.1:{port}/api/events"
    wrk(url, batch, 2, connections)  # warm up: caches, connections, the salt of the day
    before = counters(port) if metered else {}
    started = time.monotonic()
    result = wrk(url, batch, seconds, connections)
    elapsed = time.monotonic() - started
    if not metered:
        return Run(server, batch, result, result.requests_per_s * batch, {})
    after = counters(port)
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    accepted = delta.get("accepted", 0.0)
    # wrk's own duration excludes its start-up; use the larger window to stay conservative.
    events_per_s = accepted / max(elapsed, result.requests / max(result.requests_per_s, 1e-9))
    dropped = {k.split(":", 1)[1]: v for k, v in delta.items() if k.startswith("dropped:") and v}
    return Run(server, batch, result, events_per_s, dropped)


def wait_for_drain(port: int, seconds: float = 120) -> dict[str, float]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        totals = counters(port)
        if totals.get("written", 0) >= totals.get("accepted", 0):
            return totals
        time.sleep(0.5)
    return counters(port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each server per batch")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make system-deps does it)")

    workdir = Path(tempfile.mkdtemp(prefix="clearsignal-bench-", dir=ROOT / "bench"))
    bare_port, our_port = free_port(), free_port()
    bare = ours = None
    try:
        bare = start_bare(bare_port, workdir / "bare.log")
        ours = start_ours(our_port, workdir / "data", workdir / "clearsignal.log")
        print(
            f"machine: {os.cpu_count()} cores; wrk -t1 -c{args.connections} -d{args.duration:g}s; "
            f"servers: uvicorn, one worker each; {args.rounds} rounds, taking turns",
            flush=True,
        )
        medians: dict[tuple[str, int], Run] = {}
        for batch in (1, 20):
            rounds: dict[str, list[Run]] = {"bare": [], "ours": []}
            for _ in range(args.rounds):
                for server, port in (("bare", bare_port), ("ours", our_port)):
                    run = measure(
                        server, port, batch, args.duration, args.connections, server == "ours"
                    )
                    rounds[server].append(run)
                    report(run)
            for server, runs in rounds.items():
                medians[server, batch] = median_run(runs)
        totals = wait_for_drain(our_port)
        print(
            f"ours: {totals.get('accepted', 0):,.0f} events accepted in the whole run, "
            f"{totals.get('written', 0):,.0f} written to ClickHouse",
            flush=True,
        )
        print("medians:")
        for run in medians.values():
            report(run)
        single = (
            medians["ours", 1].accepted_requests_per_s / medians["bare", 1].accepted_requests_per_s
        )
        batched = medians["ours", 20].events_per_s / medians["bare", 20].events_per_s
        print(f"ratio ours/bare, single-event requests/s: {single:.2f}")
        print(f"ratio ours/bare, 20-event batch events/s: {batched:.2f}")
        ok_single = single >= TARGET_SINGLE_RATIO
        ok_batch = medians["ours", 20].events_per_s >= TARGET_BATCH_EVENTS
        print(
            f"target single-event ratio >= {TARGET_SINGLE_RATIO}: {'met' if ok_single else 'MISSED'}; "
            f"target >= {TARGET_BATCH_EVENTS:,} events/s with 20-event batches: "
            f"{'met' if ok_batch else 'MISSED'}"
        )
        return 0
    finally:
        for process in (ours, bare):
            if process is not None:
                stop(process)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def median_run(runs: list[Run]) -> Run:
    """The run with the median throughput (its latencies come with it)."""
    ranked = sorted(runs, key=lambda run: run.events_per_s)
    return ranked[len(ranked) // 2]


def report(run: Run) -> None:
    w = run.wrk
    line = (
        f"{run.server:4} batch={run.batch:2}: {w.requests_per_s:10,.0f} requests/s "
        f"{run.events_per_s:10,.0f} events/s  p50 {w.p50_ms:6.2f} ms  p99 {w.p99_ms:6.2f} ms"
    )
    if w.non_2xx:
        line += f"  non-2xx {w.non_2xx}"
    if w.socket_errors != "none":
        line += f"  socket errors: {w.socket_errors}"
    if run.dropped:
        line += "  dropped " + ", ".join(f"{k}={v:,.0f}" for k, v in sorted(run.dropped.items()))
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
