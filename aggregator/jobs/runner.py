"""Jobs: named, scheduled units of work, each run recorded in ``job_runs``.

A job is data (name, what it does, how often, a function); ``JobRunner`` runs one by
name, times it, records the outcome, and never lets one failing job stop the others.
``aggregator.jobs.registry`` lists the jobs of a deployment; the scheduler
(``aggregator.jobs.scheduler``) and ``clearsignal jobs`` both run them through a runner. A
manual run may pass ``since`` (recompute from then on, a backfill) and a progress bar.

With a lease (``aggregator.jobs.lease``), a job runs only while this process holds it;
otherwise the run is answered ``standby`` and nothing is done or recorded.

``stop`` (the server shutting down) ends a running job at its next step (a day, a site, a
rule: wherever it reports progress), so that a shutdown does not wait out a backfill; the
run is recorded ``stopped``, its watermark where it was, and the next run does the rest.
No run starts after it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.jobs.lease import JobLease
from aggregator.jobs.progress import SILENT, Progress
from aggregator.store.client import Store
from clearsignal.process_memory import trim_heap

__all__ = ["Job", "JobContext", "JobOutcome", "JobResult", "JobRunner", "JobStopped"]

log = logging.getLogger("clearsignal.jobs")
RELEASE_AFTER_SECONDS = 1.0
"""A run this long held enough to give back; the quick ones every few seconds did not."""
RELEASE_EVERY_SECONDS = 60.0
"""And at least this often, for what the server's reads held (the dashboard's, the APIs'):
the sequencer's run every few seconds gives it back within a minute of the last read."""


@dataclass(frozen=True)
class JobResult:
    rows_in: int = 0
    rows_out: int = 0
    detail: str = ""


@dataclass(frozen=True)
class JobContext:
    since: datetime | None = None  # recompute from then on, ignoring watermarks
    progress: Progress = SILENT


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    seconds: float
    run: Callable[[JobContext], JobResult]
    # Run at whole multiples of ``seconds`` since midnight UTC (an hourly job at xx:00),
    # for jobs that keep a promise to the hour, rather than counted from start-up.
    aligned: bool = False
    # Reads or writes visitors' rows (a derivation, or erasure): never runs at the same time
    # as another such job of this runner, so no derivation reads a visitor's events before
    # an erasure and writes after it.
    personal: bool = False
    # Has nothing to do unless the store was written since its last run (new events,
    # decisions, requests, another job's findings): where the store can tell
    # (``Store.writes``), a scheduled run is left out until then, and reads nothing ...
    after_writes: bool = False
    # ... unless this says the job has something due all the same (a recheck, a retry).
    due: Callable[[], bool] | None = None


class JobStopped(Exception):
    """The runner is stopping: raised at a job's next step."""


class _Stoppable:
    """``progress``, raising ``JobStopped`` at a step once ``stopping`` is set."""

    def __init__(self, progress: Progress, stopping: threading.Event) -> None:
        self._progress = progress
        self._stopping = stopping
        self.steps = 0

    def begin(self, total: int, label: str) -> None:
        self._progress.begin(total, label)

    def advance(self, label: str) -> None:
        self._progress.advance(label)
        self.steps += 1
        if self._stopping.is_set():
            raise JobStopped(f"the jobs are stopping: ended after {self.steps} steps")


@dataclass(frozen=True)
class JobOutcome:
    job: str
    status: str  # ok | failed | stopped | standby (another process holds the lease)
    result: JobResult
    error: str
    seconds: float


def _told(result: JobResult) -> str:
    return result.detail or f"{result.rows_in} rows in, {result.rows_out} out"


class JobRunner:
    def __init__(self, store: Store, jobs: Sequence[Job], lease: JobLease | None = None) -> None:
        self._store = store
        self.jobs = {job.name: job for job in jobs}
        self.lease = lease
        self._released = time.monotonic()
        self._personal = threading.Lock()
        self._stopping = threading.Event()
        # Per job, the store's writes when its last run began (``run_scheduled``).
        self._writes_seen: dict[str, int] = {}

    def stop(self) -> None:
        """End the running jobs at their next step, and run none after."""
        self._stopping.set()

    def standby_reason(self) -> str | None:
        """Why this process may not run jobs now (another holds the lease), else None."""
        if self.lease is None or self.lease.holds():
            return None
        state = self.lease.other or self.lease.current()  # current(): a claim lost to a race
        holder = f"{state.holder} until {state.expires_at:%H:%M:%S} UTC" if state else "nobody"
        return f"another process runs the jobs (lease held by {holder})"

    def run_scheduled(self, name: str) -> JobOutcome | None:
        """A run on the job's schedule, or None where it waits for writes
        (``Job.after_writes``) and none came since its last run began: then nothing is
        read or recorded, and a store whose engine stops when unused may stay stopped."""
        job = self.jobs[name]
        writes = self._store.writes()
        quiet = writes is not None and self._writes_seen.get(name) == writes
        if job.after_writes and quiet and not (job.due is not None and job.due()):
            return None
        outcome = self.run(name)
        if outcome.status == "ok" and writes is not None:
            self._writes_seen[name] = writes
        return outcome

    def run(
        self, name: str, since: datetime | None = None, progress: Progress = SILENT
    ) -> JobOutcome:
        job = self.jobs.get(name)
        if job is None:
            known = ", ".join(sorted(self.jobs))
            raise KeyError(f"no job named {name!r}; the jobs are: {known}")
        started_at, started = datetime.now(UTC), time.perf_counter()
        if self._stopping.is_set():
            return JobOutcome(name, "stopped", JobResult(), "the jobs are stopping", 0.0)
        standby = self.standby_reason()
        if standby is not None:
            log.debug("job %s not run: %s", name, standby)
            return JobOutcome(name, "standby", JobResult(), standby, 0.0)
        steps = _Stoppable(progress, self._stopping)
        try:
            with self._personal if job.personal else nullcontext():
                result, status, error = job.run(JobContext(since, steps)), "ok", ""
        except JobStopped as stopped:
            log.info("job %s: %s", name, stopped)
            result, status, error = JobResult(), "stopped", str(stopped)
        except Exception as exc:  # a job's failure is recorded, and the next run retries
            log.exception("job %s failed", name)
            result, status, error = JobResult(), "failed", f"{type(exc).__name__}: {exc}"
        outcome = JobOutcome(name, status, result, error, time.perf_counter() - started)
        self._record(outcome, started_at)
        if (
            outcome.seconds >= RELEASE_AFTER_SECONDS
            or time.monotonic() - self._released >= RELEASE_EVERY_SECONDS
        ):
            self._release_memory()
        if status == "ok":
            # Runs that changed something are worth an operator's attention; the others
            # (most of them, every few seconds) only at DEBUG, and in job_runs.
            level = logging.INFO if result.rows_out else logging.DEBUG
            log.log(level, "job %s: %s in %.2f s", name, _told(result), outcome.seconds)
        return outcome

    def _release_memory(self) -> None:
        """What a run held goes back to the system, not kept by the allocators (a small
        server idles small after its jobs: bench/small_server.py)."""
        self._released = time.monotonic()
        trim_heap()
        try:
            with self._store.bookkeeping():
                self._store.release_memory()
        except Exception:
            log.debug("the store kept its memory", exc_info=True)

    def _record(self, outcome: JobOutcome, started_at: datetime) -> None:
        finished_at = started_at + timedelta(seconds=outcome.seconds)
        try:
            with self._store.bookkeeping():
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
