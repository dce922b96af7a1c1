"""The signals job: runs every signal rule inside ClickHouse and stores what it finds.

Per site, one ``INSERT INTO signals ... SELECT`` per rule over ``ev``: the identified
events of visitors whose current consent covers the rule's purpose, within the rule's
window, split into sessions at 30 minutes of inactivity (window functions), with one flag
per page kind from the site's URL patterns. Nothing is loaded into Python.

Incremental: a watermark per site (``signal_watermarks``) says which events have been
taken into account; a run looks only at visitors with events ingested since then (minus
``LATE_GRACE``, for events that reach the store late), except for rules that time alone
can change (declining activity), which look at every consented visitor.

Idempotent: a finding's key is (site, visitor key, rule, window start) and its
``computed_at`` is the time of its newest evidence, so running again, or two runs
overlapping, writes the same rows, which ``ReplacingMergeTree`` collapses (read FINAL).
Erased visitors have no events left and no consent, so they never reappear.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aggregator.signal_rules import RULES, SignalRule
from aggregator.store import Store
from clearsignal.settings import PageSettings, Purpose, Settings, SiteSettings
from consent.clock import EPOCH, utc_now

__all__ = ["LATE_GRACE", "SESSION_GAP_SECONDS", "SignalsJob", "SignalsRun", "page_flag_sql"]

SESSION_GAP_SECONDS = 30 * 60
LATE_GRACE = timedelta(hours=1)
JOB = "signals.compute"


def _like(pattern: str) -> str:
    """A shell-style path pattern as a quoted SQL LIKE pattern."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = escaped.replace("*", "%").replace("?", "_").replace("'", "\\'")
    return f"'{like}'"


def page_flag_sql(patterns: list[str]) -> str:
    """``path LIKE ... OR ...`` for a page kind; ``0`` when a site defines none."""
    return " OR ".join(f"path LIKE {_like(p)}" for p in patterns) or "0"


def _flags(pages: PageSettings) -> str:
    kinds = ("pricing", "help", "contact", "checkout", "shipping", "purchase")
    return ",\n           ".join(
        f"({page_flag_sql(getattr(pages, kind))}) AS is_{kind}" for kind in kinds
    )


def _events_sql(site: SiteSettings, rule: SignalRule, incremental: bool) -> str:
    needs = "analytics" if rule.purpose == Purpose.ANALYTICS else "personalization"
    scope = (
        "AND visitor_key IN (SELECT DISTINCT visitor_key FROM events "
        "  WHERE site = {site:String} AND identity = 'analytics' "
        "  AND ingested_at > {changed_since:DateTime64(3, 'UTC')})"
        if incremental
        else ""
    )
    return f"""
consented AS (
    SELECT visitor_key FROM consent_records
    WHERE site = {{site:String}} AND kind != 'erasure'
    GROUP BY visitor_key
    HAVING argMax(analytics AND {needs}, recorded_at)
       AND argMax(expires_at, recorded_at) > {{as_of:DateTime64(3, 'UTC')}}
),
ev AS (
    SELECT visitor_key, event_id, type, name, ts, path, props, element,
           {{as_of:DateTime64(3, 'UTC')}} AS as_of_time,
           {_flags(site.pages)},
           sum(gap) OVER (PARTITION BY visitor_key ORDER BY ts, event_id
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session
    FROM (
        SELECT *,
               dateDiff('second',
                        lagInFrame(ts, 1, ts) OVER (PARTITION BY visitor_key ORDER BY ts, event_id
                                                    ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
                        ts) > {SESSION_GAP_SECONDS} AS gap
        FROM events FINAL
        WHERE site = {{site:String}} AND identity = 'analytics'
          AND ts >= {{since:DateTime64(3, 'UTC')}} AND ts <= {{as_of:DateTime64(3, 'UTC')}}
          AND visitor_key IN consented {scope}
    )
)"""


def rule_insert_sql(site: SiteSettings, rule: SignalRule, incremental: bool) -> str:
    """The one statement that computes ``rule`` for ``site`` and stores its findings."""
    overrides = site.signal_thresholds.get(rule.id)
    return f"""
INSERT INTO signals (site, visitor_key, rule_id, rule_version, window_start, window_end,
                     value, evidence, computed_at, expires_at)
WITH {_events_sql(site, rule, incremental and rule.incremental)}
SELECT {{site:String}}, visitor_key, '{rule.id}', {rule.version}, window_start, window_end,
       value, evidence, toDateTime64(window_end, 3),
       window_end + INTERVAL {site.retention_days} DAY
FROM ({rule.sql(overrides)})
"""


@dataclass
class SignalsRun:
    found: dict[str, int] = field(default_factory=dict)  # rule id -> rows written
    sites: int = 0


class SignalsJob:
    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()

    def run_once(self, full: bool = False) -> SignalsRun:
        """Compute every rule for every site; ``full`` ignores the watermarks (backfill)."""
        with self._lock:
            run = SignalsRun()
            for site in self._settings.sites:
                self._run_site(site, run, full)
                run.sites += 1
            return run

    def _run_site(self, site: SiteSettings, run: SignalsRun, full: bool) -> None:
        as_of = self._clock()
        newest = self._store.scalar(
            "SELECT max(ingested_at) FROM events WHERE site = {site:String}", {"site": site.id}
        )
        watermark = EPOCH if full else self._watermark(site.id)
        before = self._counts(site.id)
        for rule in RULES:
            self._store.command(
                rule_insert_sql(site, rule, incremental=not full),
                {
                    "site": site.id,
                    "as_of": as_of,
                    "since": as_of - timedelta(days=max(site.retention_days, rule.window_days)),
                    "changed_since": max(EPOCH, watermark - LATE_GRACE),
                },
            )
        after = self._counts(site.id)
        for rule in RULES:
            new = after.get(rule.id, 0) - before.get(rule.id, 0)
            run.found[rule.id] = run.found.get(rule.id, 0) + new
        if newest is not None and newest > EPOCH:
            self._store.insert(
                "signal_watermarks",
                [(JOB, site.id, newest, as_of)],
                ("job", "site", "watermark", "updated_at"),
            )

    def _watermark(self, site: str) -> datetime:
        found = self._store.scalar(
            "SELECT max(watermark) FROM signal_watermarks WHERE job = {job:String} "
            "AND site = {site:String}",
            {"job": JOB, "site": site},
        )
        return found if isinstance(found, datetime) and found > EPOCH else EPOCH

    def _counts(self, site: str) -> dict[str, int]:
        """Stored findings per rule of one site."""
        rows = self._store.rows(
            "SELECT rule_id, count() FROM signals FINAL WHERE site = {site:String} "
            "GROUP BY rule_id",
            {"site": site},
        )
        return {str(rule_id): int(count) for rule_id, count in rows}
