"""What the jobs that recompute whole days share: which days, in which order, and the
watermark after them.

A run finds, per site, the days a job must recompute (``_days``: those with events
stored since its watermark, or every day from ``since``), hands them to ``_compute``
``days_per_call`` at a time, then advances the site's watermark to the store's clock as
the run began (``Reading.mark``), so that nothing stored meanwhile is skipped next time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Generic, TypeVar

from aggregator.jobs.base import StoreJob
from aggregator.jobs.progress import SILENT, Progress
from aggregator.jobs.watermarks import Watermarks
from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import Settings, SiteSettings

__all__ = ["DayJob", "DaysRun"]


@dataclass
class DaysRun:
    sites: int = 0
    days: int = 0


RunT = TypeVar("RunT", bound=DaysRun)


class DayJob(StoreJob, Generic[RunT]):
    job: ClassVar[str]
    """The job's name: its watermarks' and its progress bar's."""
    days_per_call: ClassVar[int] = 1

    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(store, settings, clock)
        self._watermarks = Watermarks(store, self.job)

    def _new_run(self) -> RunT:
        raise NotImplementedError

    def _days(self, site: SiteSettings, since: datetime | None, changed: datetime) -> list[date]:
        """The days of ``site`` to recompute, oldest first: with ``since`` every day from
        then, else the days of events stored after ``changed`` (the run's reading)."""
        raise NotImplementedError

    def _compute(self, site: SiteSettings, days: list[date], newest: datetime, run: RunT) -> None:
        """Recompute ``days`` (at most ``days_per_call``); ``newest``, the newest row stored
        as the run began, is the version of what it writes: a rerun over the same rows
        writes the same."""
        raise NotImplementedError

    def run_once(self, since: datetime | None = None, progress: Progress = SILENT) -> RunT:
        """Recompute the days with new events; ``since`` recomputes every day from then."""
        with self._lock:
            run = self._new_run()
            readings = {site.id: self._watermarks.reading(site.id) for site in self._settings.sites}
            work = [
                (site, self._days(site, since, readings[site.id].since))
                for site in self._settings.sites
                if since is not None
                or not self._watermarks.already_read(site.id, readings[site.id])
            ]
            progress.begin(sum(len(days) for _, days in work), self.job)
            for site, days in work:
                reading = readings[site.id]
                if reading.mark is not None:
                    for chunk in _chunks(days, self.days_per_call):
                        self._compute(site, chunk, reading.newest, run)
                        for day in chunk:
                            progress.advance(f"{site.id} {day}")
                    run.days += len(days)
                self._watermarks.advance(site.id, reading.mark, self._clock())
                self._watermarks.read(site.id, readings[site.id])
                run.sites += 1
            return run


def _chunks(days: list[date], size: int) -> Iterator[list[date]]:
    for start in range(0, len(days), size):
        yield days[start : start + size]
