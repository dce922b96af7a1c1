"""Every derived job over a simulated shop: reruns and overlapping runs change nothing,
and a visitor who withdraws is gone from every derived table after the next cycle."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from aggregator.jobs.registry import deployment_jobs
from aggregator.jobs.runner import JobRunner
from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate, simulated_visitors

DERIVED = (
    "analytics.rollup", "sessions.compute", "signals.compute", "summaries.compute",
    "signals.validate",
)  # fmt: skip
TABLES = ("visitor_days", "sessions", "signals", "site_summaries", "signal_validation")
RUN_TIME = {"visitor_days": " EXCEPT computed_at"}  # when the rows were made, not what
END = datetime.now(UTC).replace(microsecond=0)
VISITORS, DAYS, SEED = 300, 30, 11


def runner(store: Store, settings: Settings, ledger: ConsentLedger) -> JobRunner:
    return JobRunner(store, deployment_jobs(store, settings, ledger, before_erase=lambda: None))


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: store.rows(f"SELECT *{RUN_TIME.get(t, '')} FROM {t} FINAL ORDER BY ALL") for t in TABLES
    }


def run_all(jobs: JobRunner) -> None:
    for name in DERIVED:
        outcome = jobs.run(name)
        assert outcome.status == "ok", outcome.error


@pytest.fixture
def simulated(migrated_store: Store, settings: Settings) -> ConsentLedger:
    simulate(migrated_store, settings, VISITORS, DAYS, SEED, end=END)
    return ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir))


def test_every_job_twice_or_overlapping_leaves_identical_tables(
    migrated_store: Store, settings: Settings, simulated: ConsentLedger
) -> None:
    run_all(runner(migrated_store, settings, simulated))
    first = snapshot(migrated_store)
    assert all(first[t] for t in TABLES), {t: len(rows) for t, rows in first.items()}
    run_all(runner(migrated_store, settings, simulated))
    assert snapshot(migrated_store) == first
    for name in DERIVED:  # a backfill recomputes the same rows
        assert (
            runner(migrated_store, settings, simulated)
            .run(name, since=datetime(2020, 1, 1, tzinfo=UTC))
            .status
            == "ok"
        )
    assert snapshot(migrated_store) == first
    threads = [
        threading.Thread(target=run_all, args=(runner(migrated_store, settings, simulated),))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert snapshot(migrated_store) == first


def test_a_visitor_who_withdraws_has_nothing_derived_after_the_next_cycle(
    migrated_store: Store, settings: Settings, simulated: ConsentLedger
) -> None:
    jobs = runner(migrated_store, settings, simulated)
    run_all(jobs)
    with_signals = {
        str(k) for (k,) in migrated_store.rows("SELECT DISTINCT visitor_key FROM signals FINAL")
    }
    site = settings.sites[0]
    browser_id = next(
        v.browser_id
        for v in simulated_visitors(site, VISITORS, DAYS, SEED, END)
        if v.browser_id is not None and simulated.visitor_key("demo", v.browser_id) in with_signals
    )
    key = simulated.visitor_key("demo", browser_id)
    number = migrated_store.scalar(
        "SELECT any(number) FROM visitor_numbers WHERE visitor_key = {k:String}", {"k": key}
    )
    holding = "SELECT count() FROM row_visitors WHERE bitmapContains(visitors, {n:UInt32})"
    assert number
    assert migrated_store.scalar(holding, {"n": number}) > 0
    simulated.record(ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: False}, "1", "banner"))
    for name in ("consent.erase", *DERIVED):
        assert jobs.run(name).status == "ok"
    assert migrated_store.scalar(holding, {"n": number}) == 0  # no bitmap counts them
    for table in ("events", "visitor_numbers", *TABLES[:2]):
        left = migrated_store.scalar(
            f"SELECT count() FROM {table} WHERE visitor_key = {{k:String}}", {"k": key}
        )
        assert left == 0, table
    assert migrated_store.scalar("SELECT count() FROM signals FINAL") > 0
