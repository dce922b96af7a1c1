"""The scheduler: APScheduler runs each job on its interval, one run of a job at a time.

In embedded mode it lives inside the server process (the engine allows one process per
data directory); against a ClickHouse server exactly one process runs it
(``clearsignal jobs run``, or the one server with ``jobs.in_process``). ``nudge``
runs a job as soon as possible, e.g. the sequencer right after a consent decision.

With a lease, the scheduler also keeps it (a third of its time to live apart), and
releases it when it stops, so a standby process takes over at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.jobs.runner import JobRunner
from clearsignal.clock import EPOCH

__all__ = ["Scheduler"]

log = logging.getLogger("clearsignal.jobs")
_SKIPPED = "maximum number of running instances reached"


def _not_a_skipped_run(record: logging.LogRecord) -> bool:
    """APScheduler warns at each tick of a job whose last run still goes (or waits for the
    store behind a long one): every 5 s through a 20-minute backfill. That is how a job
    is meant to wait (one run at a time, the missed ticks coalesced), not news."""
    return _SKIPPED not in record.getMessage()


class Scheduler:
    def __init__(self, runner: JobRunner) -> None:
        apscheduler_log = logging.getLogger("apscheduler.scheduler")
        if _not_a_skipped_run not in apscheduler_log.filters:
            apscheduler_log.addFilter(_not_a_skipped_run)
        self._runner = runner
        self._scheduler = BackgroundScheduler(timezone=UTC)
        for job in runner.jobs.values():
            self._scheduler.add_job(
                runner.run_scheduled,
                IntervalTrigger(
                    seconds=job.seconds, timezone=UTC, start_date=EPOCH if job.aligned else None
                ),
                args=[job.name],
                id=job.name,
                name=job.description,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
                misfire_grace_time=None,
            )
        if runner.lease is not None:
            self._scheduler.add_job(
                self._keep_lease,
                IntervalTrigger(seconds=runner.lease.ttl.total_seconds() / 3, timezone=UTC),
                id="lease.keep",
                name="keep the job lease",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )

    def _keep_lease(self) -> None:
        assert self._runner.lease is not None
        try:
            self._runner.lease.acquire()
        except Exception:  # the store is away: the jobs' own runs will say so
            log.warning("could not renew the job lease", exc_info=True)

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        """Stop: a running job ends at its next step (``JobRunner.stop``), and this returns
        once it has."""
        self._runner.stop()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self._runner.lease is not None:
            self._runner.lease.release()

    def trigger(self, name: str) -> IntervalTrigger:
        """When ``name`` runs (APScheduler's trigger: ``get_next_fire_time``)."""
        trigger: IntervalTrigger = self._scheduler.get_job(name).trigger
        return trigger

    def nudge(self, name: str) -> None:
        """Run ``name`` now (or right after its current run) instead of at its next tick."""
        if self._scheduler.running:
            self._scheduler.modify_job(name, next_run_time=datetime.now(UTC))
