"""The retention job: nothing personal is kept past its site's retention.

Every row holding personal data carries ``expires_at`` (fixed when it is written) and the
tables' TTL removes expired rows when ClickHouse next merges their parts. This job makes
that deterministic and follows a retention that was *shortened* since: per site and
table, it deletes rows whose ``expires_at`` has passed or whose own time (an event's
``ts``, a finding's ``window_end``, a session's end, a rollup row's or bitmap's day, a visitor number's last day) is older than the site's current
``retention_days``. Tables are found in ``system.columns`` (every MergeTree table with
``site`` and ``expires_at``), except the proof of consent (``consent.erasure.KEPT_TABLES``),
which is kept as long as the log. Measurement salts are destroyed by the ``salts.rotate``
job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aggregator.jobs.base import StoreJob
from aggregator.jobs.progress import SILENT, Progress
from aggregator.store.deletes import utc_text
from consent.erasure import personal_tables

__all__ = ["AGE_COLUMNS", "RetentionJob", "RetentionRun"]

JOB = "retention.purge"
AGE_COLUMNS = {
    "events": "ts",
    "signals": "window_end",
    "sessions": "session_end",
    "visitor_days": "day",
    "row_visitors": "day",
    "visitor_numbers": "last_day",
    "webhook_deliveries": "attempted_at",
}


@dataclass
class RetentionRun:
    rows_deleted: dict[str, int] = field(default_factory=dict)  # table -> rows


class RetentionJob(StoreJob):
    def tables(self) -> list[str]:
        return personal_tables(self._store, ("site", "expires_at"))

    def run_once(self, progress: Progress = SILENT) -> RetentionRun:
        with self._lock:
            run = RetentionRun()
            tables = self.tables()
            progress.begin(len(tables) * len(self._settings.sites), JOB)
            now = self._clock()
            for table in tables:
                for site in self._settings.sites:
                    oldest = now - timedelta(days=site.retention_days)
                    deleted = self._purge(table, site.id, now, oldest)
                    if deleted:
                        run.rows_deleted[table] = run.rows_deleted.get(table, 0) + deleted
                    progress.advance(f"{table} {site.id}")
            return run

    def _purge(self, table: str, site: str, now: datetime, oldest: datetime) -> int:
        aged = AGE_COLUMNS.get(table)
        where = "site = {site:String} AND (expires_at <= toDateTime64({now:String}, 3, 'UTC')" + (
            f" OR {aged} < toDateTime64({{oldest:String}}, 3, 'UTC'))" if aged else ")"
        )
        parameters = {"site": site, "now": utc_text(now), "oldest": utc_text(oldest)}
        count = int(self._store.scalar(f"SELECT count() FROM `{table}` WHERE {where}", parameters))
        if count:
            self._store.delete_where(table, where, parameters)
        return count
