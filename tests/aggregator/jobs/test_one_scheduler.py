"""One process runs the jobs, for real: two `clearsignal jobs run` processes share the
work by the lease, and two sequencer processes racing past it are stopped by the log's
fence. Against the loopback ClickHouse HTTP endpoint (the embedded engine is one process's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.jobs.lease import JobLease
from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, StoreSettings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.merkle import root
from consent.pseudonyms import SiteKeys
from consent.transparency_log import TransparencyLog
from tests.conftest import unique_database
from tests.support.cli import store_env
from tests.support.clickhouse_http import ClickHouseHttpServer

ROOT = Path(__file__).resolve().parents[3]
DECISIONS = 1000


@pytest.fixture
def http_store(clickhouse_http: ClickHouseHttpServer) -> Iterator[Store]:
    store = open_store(clickhouse_http.url, unique_database())
    migrate(store)
    yield store
    store.command(f"DROP DATABASE IF EXISTS `{store.database}` SYNC")
    store.close()


def record_decisions(store: Store, data_dir: Path, count: int) -> None:
    settings = Settings(data_dir=data_dir, store=StoreSettings(database=store.database))
    ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
    choices = {Purpose.ANALYTICS: True, Purpose.PERSONALIZATION: False}
    ledger.record_many([
        ConsentDecision(site="demo", browser_id=f"browser-{i:06d}-abcdefgh", choices=choices,
                        notice_version="1", method="banner")
        for i in range(count)
    ])  # fmt: skip


def test_two_sequencer_processes_never_append_two_leaves_at_one_index(
    tmp_path: Path, clickhouse_http: ClickHouseHttpServer, http_store: Store
) -> None:
    record_decisions(http_store, tmp_path / "data", DECISIONS)
    start_at = f"{time.time() + 3:.3f}"
    command = [sys.executable, "-m", "tests.support.sequencer_race", clickhouse_http.url,
               http_store.database, str(tmp_path / "log.key"), start_at]  # fmt: skip
    racers = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    reports = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        reports.append(json.loads(out))
    print(f"two sequencers: {reports}")

    indexes = http_store.rows(
        "SELECT count(), uniqExact(log_index), max(log_index), uniqExact(receipt_id) "
        "FROM consent_log"
    )[0]
    assert indexes == (DECISIONS, DECISIONS, DECISIONS - 1, DECISIONS)
    log = TransparencyLog(http_store)
    assert log.root(DECISIONS) == root([leaf.entry for leaf in log.leaves()])
    # They overlapped: one was fenced off, or both appended (a batch both wrote alike, at
    # one index, counts for each).
    fenced = sum(report["fenced"] for report in reports)
    assert fenced or min(report["integrated"] for report in reports), reports


def start_jobs_run(
    tmp_path: Path, name: str, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "clearsignal", "jobs", "run"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return process, log


def wait_for(condition: object, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_second_jobs_process_stands_by_and_takes_over_on_stop_and_on_kill_9(
    tmp_path: Path, clickhouse_http: ClickHouseHttpServer, http_store: Store
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARSIGNAL_")}
    env.update(store_env(tmp_path / "data", clickhouse_http.url, http_store.database))
    env["CLEARSIGNAL_JOBS__LEASE_SECONDS"] = "3"
    lease = JobLease(http_store)

    def holder_is(process: subprocess.Popen[bytes]) -> bool:
        state = lease.current()
        return state is not None and f":{process.pid}:" in state.holder

    first, first_log = start_jobs_run(tmp_path, "first", env)
    wait_for(lambda: "running" in first_log.read_text(), "the first runs the jobs")
    second, second_log = start_jobs_run(tmp_path, "second", env)
    try:
        wait_for(lambda: "standing by" in second_log.read_text(), "the second stands by")
        assert holder_is(first)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        wait_for(lambda: holder_is(second), "the second takes over a stopped holder", 10)

        third, third_log = start_jobs_run(tmp_path, "third", env)
        try:
            wait_for(lambda: "standing by" in third_log.read_text(), "the third stands by")
            second.kill()
            second.wait(timeout=30)
            killed_at = time.monotonic()
            wait_for(lambda: holder_is(third), "the third takes over a killed holder", 15)
            print(f"taken over {time.monotonic() - killed_at:.1f} s after kill -9 (lease 3 s)")
        finally:
            third.terminate()
            third.wait(timeout=30)
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.wait()
