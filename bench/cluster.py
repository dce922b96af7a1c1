"""ClearSignal on a 2-shard ClickHouse cluster against a single node, in one run.

    .venv/bin/python bench/cluster.py [--seconds 10] [--visitors 3000] [--days 30]

1. Ingest. Two ``clearsignal serve`` processes (``jobs.in_process = false``), each
   driven by its own wrk (20-event batches, ``bench/_post_events.lua``), store into a
   2-shard cluster of chDB nodes (``tests/support/clickhouse_cluster.py``), then into one
   node of the same kind. Prints events/s per setup (the median of three rounds) and
   their ratio, checks that every accepted event was stored once (rows in ``events`` =
   accepted), and the peak resident memory (VmHWM) of each collector and node.
2. Jobs. One simulated month is stored on a single node and copied to the cluster; every
   job runs once on each. Prints each job's seconds on both and the ratio.

This machine has 2 cores shared by the nodes, the collectors and wrk, so the cluster
cannot be faster here: the figures show its overhead, and that nothing is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import counters, free_port, http_get, stop, wait_for_drain, wait_until, wrk

from aggregator.jobs.registry import deployment_jobs
from aggregator.jobs.runner import JobRunner
from aggregator.store.client import Store, open_configured_store
from aggregator.store.migrations import migrate
from clearsignal.settings import Settings, StoreSettings
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate
from tests.support.clickhouse_cluster import ClickHouseCluster
from tests.support.clickhouse_http import ClickHouseHttpServer

BATCH, CONNECTIONS, ROUNDS = 20, 25, 3
JOBS = (
    "consent.sequence", "sessions.compute", "signals.compute", "summaries.compute",
    "signals.validate", "retention.purge", "salts.rotate", "consent.erase",
)  # fmt: skip
INPUTS = ("events", "consent_records", "salts", "simulation_truth")
UNLIMITED = {
    f"CLEARSIGNAL_INGEST__{name}": "1000000000"
    for name in ("SITE_EVENTS_PER_SECOND", "SITE_BURST", "ADDRESS_EVENTS_PER_SECOND",
                 "ADDRESS_BURST", "CLIENT_EVENTS_PER_SECOND", "CLIENT_BURST")
}  # fmt: skip


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def store_env(store: StoreSettings) -> dict[str, str]:
    env = {"CLEARSIGNAL_STORE__DSN": str(store.dsn), "CLEARSIGNAL_STORE__DATABASE": store.database}
    if store.cluster:
        env["CLEARSIGNAL_STORE__CLUSTER"] = store.cluster
        env["CLEARSIGNAL_STORE__NODES"] = json.dumps(store.nodes)
    return env


def start_collector(
    work: Path, name: str, store: StoreSettings
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    data_dir = work / name
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **UNLIMITED, **store_env(store)}
    env.update({"CLEARSIGNAL_DATA_DIR": str(data_dir), "CLEARSIGNAL_JOBS__IN_PROCESS": "false"})
    env.pop("CLEARSIGNAL_CONFIG", None)
    keys = work / "site-keys"  # every collector of a deployment holds the same site keys
    SiteKeys(keys).key("demo")
    shutil.copytree(keys, data_dir / "keys" / "sites", dirs_exist_ok=True)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("clearsignal")), "serve", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=work, env=env, stdout=(work / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_until(lambda: http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200, name, process, 120)
    return process, port


def round_of_load(collectors: list[tuple[subprocess.Popen[bytes], int]], seconds: float) -> float:
    """Both collectors under wrk at once for ``seconds``: events/s they accepted."""
    before = sum(counters(port)["accepted"] for _, port in collectors)
    started = time.monotonic()
    runs = [
        threading.Thread(
            target=wrk, args=(f"http://127.0.0.1:{port}/api/events", BATCH, seconds, CONNECTIONS)
        )
        for _, port in collectors
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    elapsed = time.monotonic() - started
    return (sum(counters(port)["accepted"] for _, port in collectors) - before) / elapsed


def ingest(work: Path, store: StoreSettings, seconds: float) -> dict[str, float]:
    """Events/s through two collectors into ``store``, after checking nothing was lost."""
    collectors = [start_collector(work, f"collector-{i}", store) for i in (1, 2)]
    try:
        for _, port in collectors:
            wrk(f"http://127.0.0.1:{port}/api/events", BATCH, 2, CONNECTIONS)  # warm up
        rates = [round_of_load(collectors, seconds) for _ in range(ROUNDS)]
        totals = [wait_for_drain(port) for _, port in collectors]
        accepted = sum(t["accepted"] for t in totals)
        rss = {f"collector {i + 1}": peak_rss_mb(p.pid) for i, (p, _) in enumerate(collectors)}
    finally:
        for process, _ in collectors:
            stop(process)
    stored = open_configured_store(Settings(store=store), create=False)
    rows, unique = stored.rows("SELECT count(), uniqExact(event_id) FROM events")[0]
    stored.close()
    return {
        "events_per_s": statistics.median(rates), "accepted": accepted, "stored": int(rows),
        "duplicated": int(rows) - int(unique), **rss,
    }  # fmt: skip


def run_jobs(store: Store, settings: Settings) -> dict[str, float]:
    ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
    runner = JobRunner(store, deployment_jobs(store, settings, ledger, before_erase=lambda: None))
    seconds = {}
    for name in JOBS:
        outcome = runner.run(name)
        assert outcome.status == "ok", f"{name}: {outcome.error}"
        seconds[name] = outcome.seconds
    return seconds


def jobs(
    work: Path, single: StoreSettings, cluster: StoreSettings, visitors: int, days: int
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    one = Settings(data_dir=work / "jobs", store=single)
    many = one.model_copy(update={"store": cluster})
    reference = open_configured_store(one)
    spread = open_configured_store(many)
    migrate(reference)
    migrate(spread)
    started = time.monotonic()
    simulate(reference, one, visitors, days, 3, end=end)
    print(f"\nsimulated {visitors} visitors over {days} days in {time.monotonic() - started:.1f} s")
    for table in INPUTS:
        rows = reference.arrow(f"SELECT * FROM {table}")
        if rows.num_rows:
            spread.insert_arrow(table, rows)
    events = int(reference.scalar("SELECT count() FROM events"))
    on_one, on_cluster = run_jobs(reference, one), run_jobs(spread, many)
    print(f"jobs over {events:,} events: single node vs 2-shard cluster")
    print(f"{'job':<20} {'single s':>9} {'cluster s':>10} {'ratio':>6}")
    for name in JOBS:
        ratio = on_cluster[name] / max(on_one[name], 1e-9)
        print(f"{name:<20} {on_one[name]:>9.2f} {on_cluster[name]:>10.2f} {ratio:>6.2f}")
    total_one, total_cluster = sum(on_one.values()), sum(on_cluster.values())
    print(
        f"{'all jobs':<20} {total_one:>9.2f} {total_cluster:>10.2f} {total_cluster / total_one:>6.2f}"
    )
    reference.close()
    spread.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of wrk per setup")
    parser.add_argument("--visitors", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make system-deps does it)")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        work = Path(tmp)
        cluster = ClickHouseCluster(work / "cluster", shards=2, replicas=1)
        single = ClickHouseHttpServer(work / "single")
        cluster.start()
        single.start()
        try:
            on_cluster = StoreSettings(dsn=cluster.urls[0], database="bench",
                                       cluster=cluster.name, nodes=cluster.urls)  # fmt: skip
            on_one = StoreSettings(dsn=single.url, database="bench")
            print(f"machine: {os.cpu_count()} cores; 2 collectors, each wrk -t1 "
                  f"-c{CONNECTIONS} -d{args.seconds:g}s, {BATCH}-event batches")  # fmt: skip
            results = {
                "2-shard cluster": ingest(work / "ingest-cluster", on_cluster, args.seconds),
                "single node": ingest(work / "ingest-single", on_one, args.seconds),
            }
            for name, result in results.items():
                lost = result["accepted"] - result["stored"]
                print(f"{name:<16} {result['events_per_s']:>10,.0f} events/s; accepted "
                      f"{result['accepted']:,.0f}, stored {result['stored']:,.0f} (lost {lost:,.0f}, "
                      f"stored twice {result['duplicated']:,.0f}); "
                      f"peak RSS collectors {result['collector 1']:.0f} / "
                      f"{result['collector 2']:.0f} MiB")  # fmt: skip
            ratio = (
                results["2-shard cluster"]["events_per_s"] / results["single node"]["events_per_s"]
            )
            print(f"ingest ratio cluster / single node: {ratio:.2f}")
            on_cluster_jobs = on_cluster.model_copy(update={"database": "bench_jobs"})
            on_one_jobs = on_one.model_copy(update={"database": "bench_jobs"})
            jobs(work, on_one_jobs, on_cluster_jobs, args.visitors, args.days)
            nodes = {f"node {i + 1}": peak_rss_mb(n.pid or 0) for i, n in enumerate(cluster.nodes)}
            nodes["single node"] = peak_rss_mb(single.pid or 0)
            print("peak RSS of the ClickHouse nodes: " + ", ".join(
                f"{name} {mb:.0f} MiB" for name, mb in nodes.items()))  # fmt: skip
        finally:
            cluster.stop()
            single.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
