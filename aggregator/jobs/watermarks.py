"""Per job and site, how far a job has read the events (``signal_watermarks``).

A watermark is the newest ``ingested_at`` a job has taken into account. The next run
looks again at what was ingested after it, minus ``LATE_GRACE`` for events that reach the
store late (a browser retrying, a spool replayed after an outage).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregator.store.client import Store
from clearsignal.clock import EPOCH

__all__ = ["LATE_GRACE", "Watermarks"]

LATE_GRACE = timedelta(hours=1)


class Watermarks:
    def __init__(self, store: Store, job: str) -> None:
        self._store = store
        self.job = job

    def get(self, site: str) -> datetime:
        """The watermark of ``site``, or the epoch when the job never ran for it."""
        found = self._store.scalar(
            "SELECT max(watermark) FROM signal_watermarks WHERE job = {job:String} "
            "AND site = {site:String}",
            {"job": self.job, "site": site},
        )
        return found if isinstance(found, datetime) and found > EPOCH else EPOCH

    def changed_since(self, site: str) -> datetime:
        """Where the next run starts reading: the watermark minus the late grace."""
        return max(EPOCH, self.get(site) - LATE_GRACE)

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
