"""Per job and site, how far a job has read the events (``signal_watermarks``).

A watermark is the store's clock when a job's run began (``Reading.mark``): it read every
row stored before, by ``stored_at``, when a row reached the store (migration 0028). The
next run looks at what was stored after it, whenever its events happened or were taken
by a collector: a spool replayed after a day's outage, events held until their consent
was checked, are read by the next run. ``LATE_GRACE`` goes back a little further, for
the rows of an insert that was under way as the run began: their ``stored_at`` is the
insert's start, and they show once it is done. (By ``ingested_at``, a collector's time,
the grace had to cover the longest outage, and an hour's grace re-read the last hour's
visitors at every run; by the newest ``stored_at`` read, the first run after a quiet
night re-read the grace before the last row of the evening.)

When nothing arrives, a run would still read what was stored within the grace, every few
minutes, for as long as a site is quiet. So a job skips a site that holds the very rows
its previous run in this process began with (``already_read``): that run read them, and
anything that came since, late or not, would have changed their count or the newest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.store.client import Store
from clearsignal.clock import EPOCH

__all__ = ["LATE_GRACE", "Reading", "Watermarks"]

LATE_GRACE = timedelta(minutes=5)
"""Longer than an insert takes, and than the clocks of a cluster's nodes differ."""


@dataclass(frozen=True)
class Reading:
    """Taken as a run begins: where it reads from, and what the site held then."""

    watermark: datetime
    mark: datetime | None
    """The store's clock now, the watermark to advance to after the run: every row
    stored before was there to read, but an insert's under way, which the next run's
    grace takes in. None while the site has neither events nor server events."""
    rows: int  # the site's events and server events
    newest: datetime  # their newest stored_at (the epoch when none)

    @property
    def since(self) -> datetime:
        """Where the run reads from: the watermark minus the late grace."""
        return _after_grace(self.watermark)


class Watermarks:
    def __init__(self, store: Store, job: str) -> None:
        self._store = store
        self.job = job
        self._read: dict[str, Reading] = {}  # per site, what this process's last run read

    def get(self, site: str) -> datetime:
        """The watermark of ``site``, or the epoch when the job never ran for it."""
        found = self._store.scalar(
            "SELECT max(watermark) FROM signal_watermarks WHERE job = {job:String} "
            "AND site = {site:String}",
            {"job": self.job, "site": site},
        )
        return found if isinstance(found, datetime) and found > EPOCH else EPOCH

    def reading(self, site: str) -> Reading:
        """Where a run of ``site`` starting now reads from (take it before the run)."""
        watermark = self.get(site)
        [(mark, rows, newest)] = self._store.rows(
            "SELECT now64(3, 'UTC'), (SELECT count() FROM events WHERE site = {site:String}) "
            "+ (SELECT count() FROM server_events WHERE site = {site:String}), "
            "greatest((SELECT max(stored_at) FROM events WHERE site = {site:String}), "
            "(SELECT max(stored_at) FROM server_events WHERE site = {site:String}))",
            {"site": site},
        )
        return Reading(watermark, mark if rows else None, int(rows), newest)

    def already_read(self, site: str, reading: Reading) -> bool:
        """Whether this process's last run of ``site`` began with the very rows there are
        now: as many, the newest stored as long ago. A new row changes the newest, and an
        insert that was under way changes the count."""
        last = self._read.get(site)
        return last is not None and (last.rows, last.newest) == (reading.rows, reading.newest)

    def read(self, site: str, reading: Reading) -> None:
        """A run of ``site`` that started at ``reading`` is done."""
        self._read[site] = reading

    def advance(self, site: str, mark: datetime | None, now: datetime) -> None:
        """A run of ``site`` read everything stored before ``mark`` (``Reading.mark``)."""
        if mark is not None:
            self._store.insert(
                "signal_watermarks",
                [(self.job, site, mark, now)],
                ("job", "site", "watermark", "updated_at"),
            )


def _after_grace(watermark: datetime) -> datetime:
    return max(EPOCH, watermark - LATE_GRACE)
