"""The analytics job: ``visitor_days``, one row per visitor and day, what the analytics count.

Per site, the days with events ingested since the job's watermark are recomputed inside
ClickHouse: one ``INSERT ... SELECT`` per day groups the day's events by visitor into the
rollup's arrays (``aggregator.reports.breakdowns.rollup_select``), then the rows of the
earlier runs of those days are deleted. Until they are, a visitor's day is there twice:
distinct counts do not change. A month of 10 M events is some 800 k rows, which the
analytics read instead of the events (bench/dashboard.py measures both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.jobs.base import StoreJob
from aggregator.jobs.progress import SILENT, Progress
from aggregator.jobs.watermarks import Watermarks
from aggregator.reports.breakdowns import rollup_columns, rollup_select
from aggregator.store.client import Store
from aggregator.store.deletes import utc_text
from clearsignal.clock import utc_now
from clearsignal.settings import Settings, SiteSettings

__all__ = ["JOB", "AnalyticsJob", "AnalyticsRun", "rollup_insert_sql"]

JOB = "analytics.rollup"


def rollup_insert_sql(suffix: str = "") -> str:
    """The statement over one day of ``events`` into ``visitor_days`` (``suffix``:
    ``_local``, one node's own tables, ``Store.on_each_shard``)."""
    columns = ", ".join(["site", "day", "visitor", "visitor_key", *rollup_columns(),
                         "computed_at", "expires_at"])  # fmt: skip
    return f"""
INSERT INTO visitor_days{suffix} ({columns})
SELECT {{site:String}} AS site, {{day:Date}} AS day, sipHash64(visitor_key) AS visitor,
       visitor_key, {rollup_select()},
       toDateTime64({{computed_at:String}}, 3, 'UTC') AS computed_at,
       max(expires_at) AS expires_at
FROM events{suffix} FINAL
WHERE site = {{site:String}} AND ts >= toDateTime64({{day:Date}}, 3, 'UTC')
  AND ts < toDateTime64({{day:Date}} + 1, 3, 'UTC')
GROUP BY visitor_key
"""


@dataclass
class AnalyticsRun:
    sites: int = 0
    days: int = 0


class AnalyticsJob(StoreJob):
    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(store, settings, clock)
        self._watermarks = Watermarks(store, JOB)

    def run_once(self, since: datetime | None = None, progress: Progress = SILENT) -> AnalyticsRun:
        """Recompute the days with new events; ``since`` recomputes every day from then."""
        with self._lock:
            run = AnalyticsRun()
            work = [(site, self._days(site, since)) for site in self._settings.sites]
            progress.begin(sum(len(days) for _, days in work), JOB)
            for site, days in work:
                newest = self._watermarks.newest(site.id)
                if newest is not None:
                    for day in days:
                        self._recompute(site, day)
                        progress.advance(f"{site.id} {day}")
                    run.days += len(days)
                self._watermarks.advance(site.id, newest, self._clock())
                run.sites += 1
            return run

    def _days(self, site: SiteSettings, since: datetime | None) -> list[date]:
        oldest = self._clock().date() - timedelta(days=site.retention_days)
        changed = self._watermarks.changed_since(site.id) if since is None else since
        rows = self._store.rows(
            "SELECT DISTINCT toDate(ts) AS day FROM events WHERE site = {site:String} "
            "AND ingested_at > {changed:DateTime64(3, 'UTC')} AND day >= {oldest:Date} "
            "ORDER BY day",
            {"site": site.id, "changed": changed, "oldest": oldest},
        )
        return [day for (day,) in rows]

    def _recompute(self, site: SiteSettings, day: date) -> None:
        now = self._clock()
        parameters = {"site": site.id, "day": day, "computed_at": utc_text(now)}
        self._store.on_each_shard(rollup_insert_sql, parameters)
        self._store.delete_where(
            "visitor_days",
            "site = {site:String} AND day = {day:Date} "
            "AND computed_at < toDateTime64({computed_at:String}, 3, 'UTC')",
            parameters,
        )
