"""The scheduler: APScheduler runs each job on its interval, one run of a job at a time.

In embedded mode it lives inside the server process (the engine allows one process per
data directory); against a ClickHouse server exactly one process runs it
(``clearsignal jobs run``, or the one server with ``jobs.in_process``). ``nudge``
runs a job as soon as possible, e.g. the sequencer right after a consent decision.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.jobs.runner import JobRunner
from clearsignal.clock import EPOCH

__all__ = ["Scheduler"]


class Scheduler:
    def __init__(self, runner: JobRunner) -> None:
        self._runner = runner
        self._scheduler = BackgroundScheduler(timezone=UTC)
        for job in runner.jobs.values():
            self._scheduler.add_job(
                runner.run,
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

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def trigger(self, name: str) -> IntervalTrigger:
        """When ``name`` runs (APScheduler's trigger: ``get_next_fire_time``)."""
        trigger: IntervalTrigger = self._scheduler.get_job(name).trigger
        return trigger

    def nudge(self, name: str) -> None:
        """Run ``name`` now (or right after its current run) instead of at its next tick."""
        if self._scheduler.running:
            self._scheduler.modify_job(name, next_run_time=datetime.now(UTC))
