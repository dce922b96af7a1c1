"""The analytics job: ``visitor_days``, one row per visitor and day, what the analytics count.

Per site, the days with events stored since the job's watermark are recomputed inside
ClickHouse: one ``INSERT ... SELECT`` per day groups the day's events by visitor into the
rollup's arrays (``aggregator.reports.breakdowns.rollup_select``), then the rows of the
earlier runs of those days are deleted. Until they are, a visitor's day is there twice:
distinct counts do not change. A month of 10 M events is some 800 k rows, which the
analytics read instead of the events (bench/dashboard.py measures both).

Each recomputed day is then counted into the visitor sets (``row_visitors``, per table
and row a bitmap of the visitors' numbers: ``aggregator.jobs.visitor_sets``), and every
run counts again the days whose bitmaps hold a visitor erased since. A run that
recomputed days then rewrites the partitions its deletes left largely dead
(``aggregator.store.compaction``).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from aggregator.jobs.days import DayJob, DaysRun
from aggregator.jobs.progress import SILENT, Progress
from aggregator.jobs.visitor_sets import count_sql, number_sql, stale_days
from aggregator.reports.breakdowns import rollup_columns, rollup_select
from aggregator.store.compaction import compact
from aggregator.store.deletes import utc_text
from clearsignal.settings import SiteSettings

__all__ = ["JOB", "AnalyticsJob", "rollup_insert_sql"]

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


class AnalyticsJob(DayJob[DaysRun]):
    job = JOB

    def _new_run(self) -> DaysRun:
        return DaysRun()

    def run_once(self, since: datetime | None = None, progress: Progress = SILENT) -> DaysRun:
        run = super().run_once(since, progress)
        with self._lock:
            recounted = 0
            for site in self._settings.sites:
                for day in stale_days(self._store, site.id, self._oldest(site)):
                    self._count(self._parameters(site, day))
                    recounted += 1
            if run.days or recounted:
                for table in ("visitor_days", "row_visitors"):
                    compact(self._store, table)
        return run

    def _oldest(self, site: SiteSettings) -> date:
        """The site's oldest day within its retention: nothing older is counted."""
        return self._clock().date() - timedelta(days=site.retention_days)

    def _days(self, site: SiteSettings, since: datetime | None, changed: datetime) -> list[date]:
        rows = self._store.rows(
            "SELECT DISTINCT toDate(ts) AS day FROM events WHERE site = {site:String} "
            "AND stored_at > {changed:DateTime64(3, 'UTC')} AND day >= {oldest:Date} "
            "ORDER BY day",
            {
                "site": site.id,
                "changed": changed if since is None else since,
                "oldest": self._oldest(site),
            },
        )
        return [day for (day,) in rows]

    def _compute(
        self, site: SiteSettings, days: list[date], newest: datetime, run: DaysRun
    ) -> None:
        (day,) = days
        parameters = self._parameters(site, day)
        self._store.on_each_shard(rollup_insert_sql, parameters)
        self._store.delete_where("visitor_days", _OLDER, parameters)
        with _NUMBERING:
            self._store.command(number_sql(), parameters)
            self._count(parameters)

    def _count(self, parameters: dict[str, object]) -> None:
        """Count ``day`` into the visitor sets, in place of what was counted before."""
        self._store.on_each_shard(count_sql, parameters)
        self._store.delete_where("row_visitors", _OLDER, parameters)

    def _parameters(self, site: SiteSettings, day: date) -> dict[str, object]:
        return {"site": site.id, "day": day, "computed_at": utc_text(self._clock())}


# Numbers are given from the site's highest so far: by one run at a time (across processes
# the job lease sees to it; within one, two runners of the job would otherwise race).
_NUMBERING = threading.Lock()
_OLDER = (
    "site = {site:String} AND day = {day:Date} "
    "AND computed_at < toDateTime64({computed_at:String}, 3, 'UTC')"
)
