"""Running jobs: each run recorded in job_runs; the log tells operators only what changed
or failed (both backends)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from aggregator.jobs import runner as runner_module
from aggregator.jobs.analytics import AnalyticsJob
from aggregator.jobs.progress import Progress
from aggregator.jobs.runner import RELEASE_AFTER_SECONDS, Job, JobContext, JobResult, JobRunner
from aggregator.jobs.scheduler import Scheduler
from aggregator.store.client import Store
from clearsignal.cli.main import configure_logging
from clearsignal.settings import Settings
from collector.ingest.rows import EVENT_COLUMNS, ROW_FORMAT, rows_json
from tests.aggregator.reports.test_analytics import DAY, pageview


def quiet(_: JobContext) -> JobResult:
    return JobResult(5, 0)


def busy(_: JobContext) -> JobResult:
    return JobResult(5, 3, "3 findings")


def broken(_: JobContext) -> JobResult:
    raise RuntimeError("the query failed")


def runner(store: Store) -> JobRunner:
    return JobRunner(
        store,
        [Job("quiet", "changes nothing", 3600, quiet), Job("busy", "finds things", 3600, busy),
         Job("broken", "fails", 3600, broken)],
    )  # fmt: skip


def test_every_run_is_recorded_and_only_changes_and_failures_are_logged_at_info(
    migrated_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = runner(migrated_store)
    with caplog.at_level(logging.DEBUG, logger="clearsignal.jobs"):
        outcomes = [jobs.run(name) for name in ("quiet", "busy", "broken", "quiet")]
    assert [o.status for o in outcomes] == ["ok", "ok", "failed", "ok"]
    recorded = migrated_store.rows("SELECT job, status FROM job_runs ORDER BY started_at")
    assert recorded == [("quiet", "ok"), ("busy", "ok"), ("broken", "failed"), ("quiet", "ok")]
    at_info = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert len(at_info) == 2
    assert at_info[0][0] == "INFO"
    assert at_info[0][1].startswith("job busy: 3 findings")
    assert at_info[1][0] == "ERROR"
    assert "job broken failed" in at_info[1][1]
    quiet_runs = [r for r in caplog.records if "job quiet" in r.getMessage()]
    assert [r.levelname for r in quiet_runs] == ["DEBUG", "DEBUG"]


def test_the_scheduler_writes_no_line_per_run_to_the_server_log(
    migrated_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging()
    scheduler = Scheduler(JobRunner(migrated_store, [Job("quiet", "q", 0.2, quiet)]))
    with caplog.at_level(logging.INFO):
        scheduler.start()
        deadline = time.monotonic() + 10
        while migrated_store.scalar("SELECT count() FROM job_runs") < 3:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        scheduler.stop()
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert shown == [], shown


def test_a_run_longer_than_its_interval_is_not_warned_about_at_each_tick(
    migrated_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    def slow(_: JobContext) -> JobResult:
        time.sleep(1.2)
        return JobResult(1, 0)

    configure_logging()
    scheduler = Scheduler(JobRunner(migrated_store, [Job("slow", "s", 0.1, slow)]))
    with caplog.at_level(logging.INFO):
        scheduler.start()
        time.sleep(2.0)  # some 20 ticks while the first run goes, then a second run
        scheduler.stop()
    assert migrated_store.scalar("SELECT count() FROM job_runs WHERE job = 'slow'") >= 1
    shown = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert shown == [], shown


def test_jobs_on_visitors_rows_never_run_at_once(migrated_store: Store) -> None:
    """A derivation and erasure in one scheduler: the second waits for the first."""
    spans: list[tuple[str, float, float]] = []

    def slow(name: str) -> Callable[[JobContext], JobResult]:
        def run(_: JobContext) -> JobResult:
            started = time.perf_counter()
            time.sleep(0.3)
            spans.append((name, started, time.perf_counter()))
            return JobResult()

        return run

    runner = JobRunner(
        migrated_store,
        [
            Job("signals.compute", "derive", 60, slow("derive"), personal=True),
            Job("consent.erase", "erase", 60, slow("erase"), personal=True),
            Job("salts.rotate", "other", 60, slow("other")),
        ],
    )
    threads = [
        threading.Thread(target=runner.run, args=(name,))
        for name in ("signals.compute", "consent.erase", "salts.rotate")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_name = {name: (start, end) for name, start, end in spans}
    derive, erase = by_name["derive"], by_name["erase"]
    assert derive[1] <= erase[0] or erase[1] <= derive[0], spans  # never overlapping
    other = by_name["other"]
    # The job on no visitor's rows ran alongside them.
    assert other[0] < max(derive[1], erase[1])
    assert other[1] > min(derive[0], erase[0])


def test_memory_is_given_back_after_a_long_run_only(
    migrated_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[str] = []
    release = migrated_store.release_memory

    def counted() -> None:
        released.append("released")
        release()

    monkeypatch.setattr(migrated_store, "release_memory", counted)

    def long(_: JobContext) -> JobResult:
        time.sleep(RELEASE_AFTER_SECONDS)
        return JobResult(5, 0)

    jobs = JobRunner(migrated_store, [Job("quiet", "q", 3600, quiet), Job("long", "l", 3600, long)])
    for _ in range(3):  # the sequencer's quick runs, every few seconds, keep their memory
        assert jobs.run("quiet").status == "ok"
    assert released == []
    assert jobs.run("long").status == "ok"
    assert released == ["released"]
    # What the server's reads held goes back at the first run after a while, quick or not.
    monkeypatch.setattr(runner_module, "RELEASE_EVERY_SECONDS", 0.5)
    assert jobs.run("quiet").status == "ok"
    assert released == ["released"]
    time.sleep(0.5)
    assert jobs.run("quiet").status == "ok"
    assert released == ["released", "released"]


def test_stopping_ends_a_backfill_at_its_next_day_and_the_next_run_does_the_rest(
    migrated_store: Store, settings: Settings
) -> None:
    """On main the scheduler's stop (a server's SIGTERM) waited for the running job to
    end: minutes, in a backfill."""
    days = 10
    rows = [pageview(f"v{n}", "/a", day=DAY - timedelta(days=n)) for n in range(days)]
    migrated_store.insert_formatted("events", EVENT_COLUMNS, rows_json(rows), ROW_FORMAT)
    first_day = threading.Event()

    class FirstDay:
        def __init__(self, inner: Progress) -> None:
            self.inner = inner

        def begin(self, total: int, label: str) -> None:
            self.inner.begin(total, label)

        def advance(self, label: str) -> None:
            first_day.set()
            self.inner.advance(label)

    def backfill(context: JobContext) -> JobResult:
        run = AnalyticsJob(migrated_store, settings).run_once(
            context.since, FirstDay(context.progress)
        )
        return JobResult(run.days, run.days)

    jobs = JobRunner(migrated_store, [Job("backfill", "every day again", 3600, backfill)])
    scheduler = Scheduler(jobs)
    scheduler.start()
    assert first_day.wait(timeout=60)
    scheduler.stop()
    counted = "SELECT uniqExact(day) FROM visitor_days"
    assert 1 <= migrated_store.scalar(counted) < days
    status, error = migrated_store.rows("SELECT status, error FROM job_runs")[0]
    assert (status, error.split(":")[0]) == ("stopped", "the jobs are stopping")
    assert jobs.run("backfill").status == "stopped"  # nothing starts after the stop
    AnalyticsJob(migrated_store, settings).run_once()  # its watermark was not advanced
    assert migrated_store.scalar(counted) == days
