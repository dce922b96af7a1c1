"""Per job and site, how far a job has read the events (``signal_watermarks``).

A watermark is the newest ``ingested_at`` a job has taken into account. The next run
looks again at what was ingested after it, minus ``LATE_GRACE`` for events that reach the
store late (a browser retrying, a spool replayed after an outage).

When nothing arrives, that would be the same last hour of events at every run, every few
minutes, for as long as a site is quiet (a whole night of a small server's one thread,
over a busy site's last hour). So a job skips a site whose ``Reading`` (the watermark and
how many events and server events came after its grace) is the one its previous run in
this process started from: that run read those very rows, and anything that came late
since would have changed the count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from aggregator.store.client import Store
from clearsignal.clock import EPOCH

__all__ = ["LATE_GRACE", "Reading", "Watermarks"]

LATE_GRACE = timedelta(hours=1)


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
            "AND ingested_at > {since:DateTime64(3, 'UTC')}) + (SELECT count() FROM server_events "
            "WHERE site = {site:String} AND ingested_at > {since:DateTime64(3, 'UTC')})",
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
        """The newest ``ingested_at`` of ``site``'s events and server events, to advance to
        after a run."""
        found = self._store.scalar(
            "SELECT greatest((SELECT max(ingested_at) FROM events WHERE site = {site:String}), "
            "(SELECT max(ingested_at) FROM server_events WHERE site = {site:String}))",
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
