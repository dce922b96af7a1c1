"""Jobs: named, scheduled units of work, each run recorded in ``job_runs``.

A job is data (name, what it does, how often, a function); ``JobRunner`` runs one by
name, times it, records the outcome, and never lets one failing job stop the others.
``deployment_jobs`` lists the jobs of a deployment; the scheduler
(``aggregator.scheduler``) and ``clearsignal jobs`` both run them through a runner.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.signals_job import SignalsJob
from aggregator.store import Store
from clearsignal.settings import Settings
from consent.erasure import Eraser
from consent.ledger import ConsentLedger
from consent.log_keys import LogKeys
from consent.salts import DailySalts
from consent.sequencer import Sequencer

__all__ = ["Job", "JobResult", "JobRunner", "deployment_jobs"]

log = logging.getLogger("clearsignal.jobs")


@dataclass(frozen=True)
class JobResult:
    rows_in: int = 0
    rows_out: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    seconds: float
    run: Callable[[], JobResult]


@dataclass(frozen=True)
class JobOutcome:
    job: str
    status: str  # ok | failed
    result: JobResult
    error: str
    seconds: float


class JobRunner:
    def __init__(self, store: Store, jobs: Sequence[Job]) -> None:
        self._store = store
        self.jobs = {job.name: job for job in jobs}

    def run(self, name: str) -> JobOutcome:
        job = self.jobs.get(name)
        if job is None:
            known = ", ".join(sorted(self.jobs))
            raise KeyError(f"no job named {name!r}; the jobs are: {known}")
        started_at, started = datetime.now(UTC), time.perf_counter()
        try:
            result, status, error = job.run(), "ok", ""
        except Exception as exc:  # a job's failure is recorded, and the next run retries
            log.exception("job %s failed", name)
            result, status, error = JobResult(), "failed", f"{type(exc).__name__}: {exc}"
        outcome = JobOutcome(name, status, result, error, time.perf_counter() - started)
        self._record(outcome, started_at)
        return outcome

    def _record(self, outcome: JobOutcome, started_at: datetime) -> None:
        finished_at = started_at + timedelta(seconds=outcome.seconds)
        try:
            self._store.insert(
                "job_runs",
                [(
                    uuid.uuid4(), outcome.job, "", started_at, finished_at, outcome.status,
                    outcome.result.rows_in, outcome.result.rows_out, finished_at,
                    outcome.error[:2000],
                )],
                ("run_id", "job", "site", "started_at", "finished_at", "status", "rows_in",
                 "rows_out", "watermark", "error"),
            )  # fmt: skip
        except Exception:
            log.exception("could not record the run of job %s", outcome.job)


def deployment_jobs(
    store: Store,
    settings: Settings,
    ledger: ConsentLedger,
    before_erase: Callable[[], None],
    on_sequenced: Callable[[], None] | None = None,
) -> list[Job]:
    """The jobs every deployment runs, wired to its store and settings."""
    sequencer = Sequencer(store, LogKeys.load(settings.log_origin, settings.log_key_path))
    eraser = Eraser(
        store,
        ledger,
        cluster=settings.store.cluster,
        before_erase=before_erase,
        settle=timedelta(seconds=settings.jobs.erasure_settle_seconds),
    )
    salts = DailySalts(store)
    signals = SignalsJob(store, settings)

    def sequence() -> JobResult:
        run = sequencer.run_once()
        if on_sequenced is not None and run.checkpoint is not None:
            on_sequenced()
        return JobResult(run.integrated, run.integrated, f"tree size {run.tree_size}")

    def erase() -> JobResult:
        run = eraser.run_once()
        deleted = sum(run.rows_deleted.values())
        return JobResult(len(run.erased), deleted, f"{len(run.erased)} erasures")

    def compute_signals() -> JobResult:
        run = signals.run_once()
        found = sum(run.found.values())
        return JobResult(run.sites, found, f"{found} new findings over {run.sites} sites")

    def rotate_salts() -> JobResult:
        salts.prepare()
        destroyed = salts.destroy_expired()
        return JobResult(0, len(destroyed), f"destroyed salts of {destroyed}")

    return [
        Job(
            "consent.sequence",
            "integrate recorded consent decisions into the transparency log and sign a checkpoint",
            settings.jobs.sequencer_seconds,
            sequence,
        ),
        Job(
            "consent.erase",
            "erase the events and signals of visitors who withdrew consent or asked for "
            "deletion, and log an erasure receipt",
            settings.jobs.erasure_seconds,
            erase,
        ),
        Job(
            "signals.compute",
            "run every signal rule in ClickHouse for visitors with new events (and time-based "
            "rules for all consented visitors)",
            settings.jobs.signals_seconds,
            compute_signals,
        ),
        Job(
            "salts.rotate",
            "create tomorrow's measurement salt and destroy salts older than 48 hours",
            3600.0,
            rotate_salts,
        ),
    ]
