"""The sessions job: a row per visit in ``sessions``, computed inside ClickHouse.

Per site, the visitors with events stored since the job's watermark (minus the late
grace) are recomputed over the site's retention: their rows are deleted, then one
``INSERT ... SELECT`` groups their events into sessions (``aggregator.signals.sessionise``) with
counts, entry and exit pages and the funnel steps reached in order. Deleting first means
a late event that joins two sessions leaves no stale row; two overlapping runs each delete
then insert the same rows, which ``ReplacingMergeTree`` collapses. Over many events the
insert runs a share of the visitors at a time (``aggregator.jobs.buckets``). A run then
rewrites the partitions its deletes left largely dead (``aggregator.store.compaction``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.jobs.base import StoreJob
from aggregator.jobs.buckets import IN_BUCKET, bucket_count, each_bucket
from aggregator.jobs.progress import SILENT, Progress
from aggregator.jobs.watermarks import Watermarks
from aggregator.signals.sessionise import sessionised_events
from aggregator.store.client import Store
from aggregator.store.compaction import compact
from aggregator.store.deletes import utc_text
from clearsignal.clock import EPOCH, utc_now
from clearsignal.settings import Settings, SiteSettings

__all__ = ["SessionsJob", "SessionsRun"]

JOB = "sessions.compute"
STEPS_KEPT = 50

_SINCE = "toDateTime64({since:String}, 3, 'UTC')"


def _affected(events: str = "events") -> str:
    return (
        f"(identity, visitor_key) IN (SELECT DISTINCT identity, visitor_key FROM {events} "
        "WHERE site = {site:String} "
        "AND stored_at > toDateTime64({changed_since:String}, 3, 'UTC') "
        f"AND ts >= {_SINCE})"
    )


def sessions_insert_sql(retention_days: int, suffix: str = "") -> str:
    """The statement over ``events`` into ``sessions`` (``suffix``: ``_local``, one node's
    own tables, ``Store.on_each_shard``)."""
    events = (
        f"SELECT * FROM events{suffix} FINAL WHERE site = {{site:String}} AND ts >= {_SINCE} "
        f"AND {IN_BUCKET} AND {_affected(f'events{suffix}')}"
    )
    return f"""
INSERT INTO sessions{suffix} (site, visitor_key, identity, session_start, session_end, events,
                      pageviews, entry_path, exit_path, steps, computed_at, expires_at)
SELECT {{site:String}}, visitor_key, identity, min(ts), max(ts), count(),
       countIf(type = 'pageview'), argMin(path, (ts, event_id)), argMax(path, (ts, event_id)),
       arraySlice(arrayDistinct(arrayMap(s -> s.2,
                  arraySort(groupArrayIf((ts, name), type = 'step')))), 1, {STEPS_KEPT}),
       max(ts), toDateTime(max(ts)) + INTERVAL {retention_days} DAY
FROM ({sessionised_events(events)})
GROUP BY identity, visitor_key, session
"""


@dataclass
class SessionsRun:
    sites: int = 0
    visitors: int = 0
    sessions: int = 0


class SessionsJob(StoreJob):
    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(store, settings, clock)
        self._watermarks = Watermarks(store, JOB)

    def run_once(self, since: datetime | None = None, progress: Progress = SILENT) -> SessionsRun:
        """Recompute the sessions of visitors with new events; ``since`` recomputes every
        visitor's sessions from that time on (a backfill)."""
        with self._lock:
            run = SessionsRun()
            progress.begin(len(self._settings.sites), JOB)
            for site in self._settings.sites:
                self._run_site(site, since, run)
                run.sites += 1
                progress.advance(site.id)
            if run.visitors:
                compact(self._store, "sessions")
            return run

    def _run_site(self, site: SiteSettings, since: datetime | None, run: SessionsRun) -> None:
        now = self._clock()
        reading = self._watermarks.reading(site.id)
        if since is None and self._watermarks.already_read(site.id, reading):
            return
        if reading.mark is None:  # no events yet
            return
        lookback = now - timedelta(days=site.retention_days)
        parameters = {
            "site": site.id,
            "since": utc_text(max(lookback, since) if since is not None else lookback),
            "changed_since": utc_text(EPOCH if since is not None else reading.since),
        }
        visitors = int(
            self._store.scalar(
                f"SELECT count() FROM (SELECT DISTINCT identity, visitor_key FROM events "
                f"WHERE site = {{site:String}} AND {_affected()})",
                parameters,
            )
        )
        if visitors:
            self._store.delete_where(
                "sessions",
                f"site = {{site:String}} AND session_end >= {_SINCE} AND {_affected()}",
                parameters,
            )
            read = (
                "SELECT count() FROM events WHERE site = {site:String} "
                f"AND ts >= {_SINCE} AND {_affected()}"
            )
            for bucket in each_bucket(parameters, bucket_count(self._store, read, parameters)):
                self._store.on_each_shard(
                    lambda suffix: sessions_insert_sql(site.retention_days, suffix), bucket
                )
            run.visitors += visitors
            run.sessions += int(
                self._store.scalar(
                    f"SELECT count() FROM sessions FINAL WHERE site = {{site:String}} "
                    f"AND session_end >= {_SINCE} AND {_affected()}",
                    parameters,
                )
            )
        self._watermarks.advance(site.id, reading.mark, now)
        self._watermarks.read(site.id, reading)
