"""Consent log benchmark: how fast decisions are logged, and how fast proofs come back.

Runs on the embedded engine in a temporary data directory (or on the store given with
--dsn) and prints, in one run:

* decisions recorded per second through ``ConsentLedger.record`` (one insert each, the
  path of ``POST /api/consent``);
* leaves integrated per second by the sequencer (node hashes, leaves and a signed
  checkpoint), while the log grows to --entries (default 1,000,000);
* inclusion- and consistency-proof latency at that size through ``LogReader`` (the code
  behind /api/transparency/*), p50/p99/max over random leaves, against the 50 ms goal;
* ``clearsignal audit verify`` time over the whole log.

    .venv/bin/python bench/consent.py [--entries 1000000] [--dsn chdb:///tmp/x]
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, StoreSettings
from consent.audit import verify_log
from consent.entries import ConsentDecision, build_entry
from consent.ledger import CONSENT_LIFETIME, ConsentLedger
from consent.log_keys import LogKeys
from consent.log_reader import LogReader
from consent.merkle import leaf_hash
from consent.pseudonyms import SiteKeys
from consent.sequencer import Sequencer
from consent.state import ConsentState

GOAL_MS = 50.0
RECORD_COLUMNS = (
    "receipt_id", "site", "visitor_key", "kind", "analytics", "personalization", "method",
    "notice_version", "recorded_at", "expires_at", "entry", "leaf_hash",
)  # fmt: skip


def load_records(store: Store, settings: Settings, count: int, start: datetime) -> None:
    """Bulk-insert ``count`` realistic decisions, as many collectors would over time."""
    site = settings.sites[0]
    batch: list[list[object]] = []
    for n in range(count):
        analytics = n % 3 != 0
        recorded_at = start + timedelta(milliseconds=n)
        state = ConsentState(
            analytics, analytics, recorded_at, recorded_at + CONSENT_LIFETIME, str(uuid.uuid4())
        )
        decision = ConsentDecision(
            site.id, "", {Purpose.ANALYTICS: analytics}, site.notice.version, "banner"
        )
        subject = secrets.token_hex(16)
        entry = build_entry(site, subject, decision, state)
        batch.append([
            state.receipt_id, site.id, subject, "consent", analytics, analytics, "banner",
            site.notice.version, recorded_at, state.expires_at, entry, leaf_hash(entry),
        ])  # fmt: skip
        if len(batch) == 50_000:
            store.insert("consent_records", batch, RECORD_COLUMNS)
            batch = []
    if batch:
        store.insert("consent_records", batch, RECORD_COLUMNS)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms   max {ordered[-1]:6.2f} ms"
    )


def timed_ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=2_000, help="single records to time")
    parser.add_argument("--proofs", type=int, default=300)
    parser.add_argument("--dsn", help="default: the embedded engine in a temporary directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clearsignal-bench-") as tmp:
        dsn = args.dsn or f"chdb://{tmp}/clickhouse"
        database = f"bench_{uuid.uuid4().hex[:8]}"
        settings = Settings(data_dir=Path(tmp), store=StoreSettings(dsn=dsn, database=database))
        store = open_store(dsn, database)
        try:
            migrate(store)
            keys = LogKeys.load(settings.log_origin, settings.log_key_path)
            ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
            sequencer = Sequencer(store, keys)
            reader = LogReader(store, keys.verifier)
            print(f"consent log benchmark on {dsn.split('://')[0]}, {args.entries:,} entries")

            started = time.perf_counter()
            for _ in range(args.decisions):
                ledger.record(
                    ConsentDecision(
                        "demo", secrets.token_urlsafe(16), {Purpose.ANALYTICS: True}, "1", "api"
                    )
                )
            rate = args.decisions / (time.perf_counter() - started)
            print(f"record a decision (ledger.record)   {rate:10,.0f} decisions/s")

            bulk = args.entries - args.decisions
            started = time.perf_counter()
            load_records(store, settings, bulk, datetime.now(UTC) - timedelta(minutes=30))
            print(f"bulk-load {bulk:,} decisions          {time.perf_counter() - started:8.1f} s")

            started = time.perf_counter()
            run = sequencer.run_once()
            elapsed = time.perf_counter() - started
            print(
                f"sequencer: integrate and sign        {run.integrated / elapsed:10,.0f} "
                f"leaves/s ({run.integrated:,} leaves in {elapsed:.1f} s)"
            )
            size = run.tree_size

            rng = random.Random(6962)
            inclusion = [
                timed_ms(lambda: reader.inclusion(rng.randrange(size))) for _ in range(args.proofs)
            ]
            consistency = [
                timed_ms(partial(reader.consistency, rng.randrange(1, size), size))
                for _ in range(args.proofs)
            ]
            sampled = store.rows("SELECT receipt_id FROM consent_log ORDER BY rand() LIMIT 50")
            by_receipt = [timed_ms(partial(reader.receipt, str(row[0]))) for row in sampled]
            print(f"inclusion proof at {size:,}       {percentiles(inclusion)}")
            print(f"consistency proof at {size:,}     {percentiles(consistency)}")
            print(f"proven receipt by id at {size:,}  {percentiles(by_receipt)}")
            worst_p99 = max(sorted(s)[int(len(s) * 0.99) - 1] for s in (inclusion, consistency))
            print(f"proof p99 vs the {GOAL_MS:.0f} ms goal: {worst_p99 / GOAL_MS:.2f}x of budget")

            started = time.perf_counter()
            report = verify_log(store, keys.verifier)
            print(
                f"audit verify of the whole log        {time.perf_counter() - started:8.1f} s "
                f"({'ok' if report.ok else report.summary()})"
            )
        finally:
            store.command(f"DROP DATABASE IF EXISTS `{database}`")
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
