"""Per job and site, how far a job has read the events (``signal_watermarks``).

A watermark is the newest ``stored_at`` a job has taken into account: when a row reached
the store, by the store's clock (migration 0028). The next run looks at what was stored
after it, whenever its events happened or were taken by a collector: a spool replayed
after a day's outage, events held until their consent was checked, are read by the next
run. ``LATE_GRACE`` goes back a little further, for the rows of an insert that was under
way when a run took the watermark: their ``stored_at`` is the insert's start, and they
show once it is done. (By ``ingested_at``, a collector's time, the grace had to cover the
longest outage, and an hour's grace re-read the last hour's visitors at every run.)

When nothing arrives, a run would still read what was stored within the grace, every few
minutes, for as long as a site is quiet. So a job skips a site whose ``Reading`` (the
watermark and how many events and server events came after its grace) is the one its
previous run in this process started from: that run read those very rows, and anything
that came late since would have changed the count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from aggregator.store.client import Store
from clearsignal.clock import EPOCH

__all__ = ["LATE_GRACE", "Reading", "Watermarks"]

LATE_GRACE = timedelta(minutes=5)
"""Longer than an insert takes, and than the clocks of a cluster's nodes differ."""


class Reading(NamedTuple):
    """What a run reads anew: the watermark, and the rows ingested after its grace."""

    watermark: datetime
    rows: int  # ingested after the grace

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
        """What a run of ``site`` starting now reads anew (take it before the run)."""
        watermark = self.get(site)
        since = _after_grace(watermark)
        count = self._store.scalar(
            "SELECT (SELECT count() FROM events WHERE site = {site:String} "
            "AND stored_at > {since:DateTime64(3, 'UTC')}) + (SELECT count() FROM server_events "
            "WHERE site = {site:String} AND stored_at > {since:DateTime64(3, 'UTC')})",
            {"site": site, "since": since},
        )
        return Reading(watermark, int(count or 0))

    def already_read(self, site: str, reading: Reading) -> bool:
        """Whether this process's last run of ``site`` read just this (nothing came since)."""
        return self._read.get(site) == reading

    def read(self, site: str, reading: Reading) -> None:
        """A run of ``site`` that started at ``reading`` is done."""
        self._read[site] = reading

    def newest(self, site: str) -> datetime | None:
        """The newest ``stored_at`` of ``site``'s events and server events, to advance to
        after a run."""
        found = self._store.scalar(
            "SELECT greatest((SELECT max(stored_at) FROM events WHERE site = {site:String}), "
            "(SELECT max(stored_at) FROM server_events WHERE site = {site:String}))",
            {"site": site},
        )
        return found if isinstance(found, datetime) and found > EPOCH else None

    def advance(self, site: str, newest: datetime | None, now: datetime) -> None:
        if newest is not None:
            self._store.insert(
                "signal_watermarks",
                [(self.job, site, newest, now)],
                ("job", "site", "watermark", "updated_at"),
            )


def _after_grace(watermark: datetime) -> datetime:
    return max(EPOCH, watermark - LATE_GRACE)
