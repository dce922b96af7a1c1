"""Signal jobs benchmark: every derived job over 1 M and then 10 M simulated events.

On the embedded engine in a temporary data directory, in one run:

1. the simulator writes a realistic shop (browse, pricing, FAQ, cart, shipping, checkout,
   purchase, contact, planted signals and look-alikes) straight into the store through
   the real pseudonymisation, about --events (default 1,000,000) events;
2. every derived job runs as a full backfill (``--since`` the start: no watermark
   shortcut), timed one by one: sessions, signals, daily summaries, validation;
3. the store is grown tenfold inside ClickHouse (nine copies of every visitor, with their
   consent records, under new visitor keys: the same behaviour, ten times the visitors),
   the derived tables are emptied, and the same jobs run again.

It prints the time of each job at each size, the total for all signal jobs, the ratio
10 M / 1 M (about 10 means cost grows linearly) and the 60 s goal at 10 M.

    .venv/bin/python bench/signals.py [--events 1000000] [--copies 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.jobs.registry import deployment_jobs
from aggregator.jobs.runner import JobRunner
from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.settings import Settings, StoreSettings
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate

JOBS = ("sessions.compute", "signals.compute", "summaries.compute", "signals.validate")
DERIVED_TABLES = ("sessions", "signals", "site_summaries", "signal_validation")
EVENTS_PER_VISITOR = 42  # what the simulator produces on average over 30 days
GOAL_SECONDS = 60.0
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


def time_jobs(runner: JobRunner) -> dict[str, float]:
    seconds = {}
    for name in JOBS:
        started = time.perf_counter()
        outcome = runner.run(name, since=BEGINNING)
        seconds[name] = time.perf_counter() - started
        if outcome.status != "ok":
            raise SystemExit(f"{name} failed: {outcome.error}")
        print(f"  {name:<20} {seconds[name]:8.2f} s   {outcome.result.detail}", flush=True)
    return seconds


def grow(store: Store, copies: int) -> None:
    """Add ``copies - 1`` copies of every visitor under new keys, inside ClickHouse."""
    copied = {"events": "event_id", "consent_records": "receipt_id"}
    for table in copied:  # the originals, apart: a copy must not be copied again
        store.command(f"CREATE TABLE original_{table} AS {table}")
        store.command(f"INSERT INTO original_{table} SELECT * FROM {table}")
    for copy in range(1, copies):
        for table, row_id in copied.items():
            store.command(
                f"INSERT INTO {table} SELECT * REPLACE (concat(visitor_key, {{s:String}}) AS "
                f"visitor_key, concat({row_id}, {{s:String}}) AS {row_id}) FROM original_{table}",
                {"s": f"~{copy}"},
            )
    for table in copied:
        store.command(f"DROP TABLE original_{table}")
    for table in DERIVED_TABLES:
        store.command(f"TRUNCATE TABLE {table}")
    store.command("OPTIMIZE TABLE events FINAL")


def events(store: Store) -> int:
    return int(store.scalar("SELECT count() FROM events"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clearsignal-bench-") as directory:
        settings = Settings(
            data_dir=Path(directory) / "data",
            store=StoreSettings(dsn=f"chdb://{directory}/clickhouse", database="bench"),
        )
        store = open_store(settings.dsn, settings.store.database)
        migrate(store)
        visitors = max(1, args.events // EVENTS_PER_VISITOR)
        started = time.perf_counter()
        simulate(store, settings, visitors, 30, args.seed)
        store.command("OPTIMIZE TABLE events FINAL")
        small = events(store)
        print(f"simulated {visitors:,} visitors, {small:,} events over 30 days "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
        runner = JobRunner(store, deployment_jobs(store, settings, ledger, lambda: None))
        print(f"all signal jobs over {small:,} events:")
        first = time_jobs(runner)
        grow(store, args.copies)
        large = events(store)
        print(f"all signal jobs over {large:,} events ({args.copies} x the visitors):")
        second = time_jobs(runner)
    total_small, total_large = sum(first.values()), sum(second.values())
    print()
    print(f"{'job':<20} {small / 1e6:>8.1f} M {large / 1e6:>8.1f} M   ratio")
    for name in JOBS:
        print(
            f"{name:<20} {first[name]:8.2f} s {second[name]:8.2f} s {second[name] / first[name]:7.1f}x"
        )
    print(f"{'all signal jobs':<20} {total_small:8.2f} s {total_large:8.2f} s "
          f"{total_large / total_small:7.1f}x  (events {large / small:.1f}x)")  # fmt: skip
    verdict = "meets" if total_large <= GOAL_SECONDS else "misses"
    print(
        f"at {large / 1e6:.1f} M events: {total_large:.1f} s, {verdict} the {GOAL_SECONDS:.0f} s goal"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
