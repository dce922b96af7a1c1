"""The sessions, signals and summaries jobs run a share of the visitors at a time over many
events (``aggregator.jobs.buckets``): the rows are the same as computed whole."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from aggregator.jobs import buckets
from aggregator.jobs.registry import deployment_jobs
from aggregator.jobs.runner import JobRunner
from aggregator.store.client import Store
from clearsignal.settings import Settings
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate

JOBS = ("sessions.compute", "signals.compute", "summaries.compute")
TABLES = {
    "sessions": "SELECT * FROM sessions FINAL ORDER BY ALL",
    "signals": "SELECT * FROM signals FINAL ORDER BY ALL",
    "site_summaries": "SELECT * EXCEPT computed_at FROM site_summaries FINAL ORDER BY ALL",
}
END = datetime.now(UTC).replace(microsecond=0)


def derived(store: Store, settings: Settings, ledger: ConsentLedger) -> dict[str, Any]:
    for table in TABLES:
        store.command(f"TRUNCATE TABLE {table}")
    store.command("TRUNCATE TABLE signal_watermarks")
    runner = JobRunner(store, deployment_jobs(store, settings, ledger, before_erase=lambda: None))
    for name in JOBS:
        outcome = runner.run(name)
        assert outcome.status == "ok", outcome.error
    return {table: store.rows(sql) for table, sql in TABLES.items()}


def test_visitor_buckets_give_the_rows_of_the_whole(
    migrated_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate(migrated_store, settings, 150, 10, 4, end=END)
    ledger = ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir))
    whole = derived(migrated_store, settings, ledger)
    assert all(whole.values()), {table: len(rows) for table, rows in whole.items()}
    counts: list[int] = []
    count = buckets.bucket_count

    def counted(*args: Any) -> int:
        counts.append(count(*args))
        return counts[-1]

    # Every rule's statement reads a bucket, high_effort's too: it compares a visitor's
    # effort with the site's median over every bucket, so its findings are the whole's.
    high_effort = "SELECT count() FROM signals FINAL WHERE rule_id = 'high_effort'"
    assert migrated_store.scalar(high_effort) > 0
    rules: dict[str, set[int]] = {}
    command = Store.command

    def recorded(store: Store, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        if sql.lstrip().startswith("INSERT INTO signals"):
            rule = re.search(r"String\}, visitor_key, '(\w+)'", sql)
            assert rule, sql
            rules.setdefault(rule[1], set()).add((parameters or {}).get("buckets", 1))
        return command(store, sql, parameters)

    monkeypatch.setattr(buckets, "BUCKET_EVENTS", 400)
    for module in ("sessions", "signals", "summaries"):
        monkeypatch.setattr(f"aggregator.jobs.{module}.bucket_count", counted)
    monkeypatch.setattr(Store, "command", recorded)
    assert derived(migrated_store, settings, ledger) == whole
    assert max(counts) > 5  # the jobs did run in several buckets
    assert min(min(run) for run in rules.values()) > 5, rules
    assert "high_effort" in rules


def test_a_query_memory_limit_makes_the_buckets_smaller() -> None:
    assert buckets.events_per_bucket(0) == buckets.BUCKET_EVENTS  # no limit
    # The small-server profile's 256 MiB a query: a quarter of a million events.
    assert buckets.events_per_bucket(256 * 1024 * 1024) == 262_144
    assert buckets.events_per_bucket(1024) == buckets.MIN_BUCKET_EVENTS
    assert buckets.events_per_bucket(1 << 40) == buckets.BUCKET_EVENTS
