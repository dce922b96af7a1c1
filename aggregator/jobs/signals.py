"""The signals job: runs every signal rule inside ClickHouse and stores what it finds.

Per site, one ``INSERT INTO signals ... SELECT`` per rule over ``ev``: the identified
events of visitors whose current consent covers the rule's purpose, within the rule's
window, split into sessions at 30 minutes of inactivity (window functions), with one flag
per page kind from the site's URL patterns and each step's place in the site's funnel
(``funnel_step``); and ``sv``: those visitors' server events
(the site's own systems, joined through a proven link). Nothing is loaded into Python.

Over many events each rule runs a share of the visitors at a time
(``aggregator.jobs.buckets``): a rule reads one visitor's events only. A rule that
compares a visitor with the others (``high_effort``: the site's median effort) first adds
up its ``baseline`` counts over every share, then runs share by share with the medians.

Incremental: a watermark per site (``signal_watermarks``) says which events have been
taken into account; a run looks only at visitors with events stored since then (minus
``LATE_GRACE``, for inserts still under way when the last run began). The rules that time
alone can change (declining activity, a request left unresolved) look at every consented
visitor once every ``RECHECK`` (a watermark of its own, ``signals.recheck``), and in
between at the visitors with new events like the others: over 10 M events a look at
everyone takes minutes on a small server, which a run every 5 minutes would spend all
its time on.

Idempotent: a finding's key is (site, visitor key, rule, window start) and its
``computed_at`` is the time of its newest evidence, so running again, or two runs
overlapping, writes the same rows, which ``ReplacingMergeTree`` collapses (read FINAL).
Erased visitors have no events left and no consent, so they never reappear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aggregator.jobs.base import StoreJob
from aggregator.jobs.buckets import IN_BUCKET, bucket_count, each_bucket
from aggregator.jobs.progress import SILENT, Progress
from aggregator.jobs.watermarks import Watermarks
from aggregator.signals.effort import FUNNEL_STEP
from aggregator.signals.rule import medians
from aggregator.signals.rules import RULES, SignalRule
from aggregator.signals.sessionise import sessionised_events
from aggregator.store.client import Store
from clearsignal.clock import EPOCH, utc_now
from clearsignal.settings import PageSettings, Settings, SiteSettings
from consent.queries import consented_sql

__all__ = ["SignalsJob", "SignalsRun", "page_flag_sql"]

JOB = "signals.compute"
RECHECK = timedelta(hours=1)
"""How often the rules that time alone can change look at every consented visitor."""
_AS_OF = "{as_of:DateTime64(3, 'UTC')}"


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
    flags = [f"({page_flag_sql(getattr(pages, kind))}) AS is_{kind}" for kind in kinds]
    return ",\n           ".join([*flags, FUNNEL_STEP])


def _new_visitors(suffix: str = "") -> str:
    """The visitors with events stored since ``changed_since``: from the browser (with
    analytics consent when they were taken) or from the site's systems."""
    return (
        f"SELECT visitor_key FROM events{suffix} "
        "WHERE site = {site:String} AND identity = 'analytics' "
        "AND stored_at > {changed_since:DateTime64(3, 'UTC')} "
        f"UNION DISTINCT SELECT visitor_key FROM server_events{suffix} "
        "WHERE site = {site:String} AND visitor_key != '' "
        "AND stored_at > {changed_since:DateTime64(3, 'UTC')}"
    )


def _scope(incremental: bool, suffix: str = "") -> str:
    """Which visitors a run looks at: those with new events, or (a backfill) all."""
    return f"AND visitor_key IN ({_new_visitors(suffix)})" if incremental else ""


def _events_sql(site: SiteSettings, rule: SignalRule, incremental: bool, suffix: str) -> str:
    scope = _scope(incremental, suffix)
    events = sessionised_events(
        f"SELECT * FROM events{suffix} FINAL WHERE site = {{site:String}} "
        "AND identity = 'analytics' "
        "AND ts >= {since:DateTime64(3, 'UTC')} AND ts <= {as_of:DateTime64(3, 'UTC')} "
        f"AND {IN_BUCKET} AND visitor_key IN consented {scope}",
        "{as_of:DateTime64(3, 'UTC')} AS as_of_time,\n           " + _flags(site.pages),
    )
    consented = consented_sql(rule.purpose, "site = {site:String}", _AS_OF)
    server = (
        "SELECT visitor_key, event_id, ts, kind, action, attributes, amount, currency, quantity, "
        f"{_AS_OF} AS as_of_time FROM server_events{suffix} FINAL "
        f"WHERE site = {{site:String}} AND visitor_key != '' AND {IN_BUCKET} "
        "AND visitor_key IN consented "
        "AND ts >= {since:DateTime64(3, 'UTC')} AND ts <= {as_of:DateTime64(3, 'UTC')} "
        f"{scope}"
    )
    return f"""
consented AS (SELECT visitor_key FROM ({consented})),
ev AS ({events}
),
sv AS ({server})"""


def rule_insert_sql(
    site: SiteSettings,
    rule: SignalRule,
    incremental: bool,
    suffix: str = "",
    usual: dict[str, float] | None = None,
) -> str:
    """The one statement that computes ``rule`` for ``site`` and stores its findings,
    for the visitors with new events only when ``incremental`` (``suffix``: ``_local``,
    over one node's own tables, ``Store.shard_targets``; ``usual``: the medians of its
    baseline)."""
    overrides = site.signal_thresholds.get(rule.id)
    return f"""
INSERT INTO signals{suffix} (site, visitor_key, rule_id, rule_version, window_start, window_end,
                     value, evidence, computed_at, expires_at)
WITH {_events_sql(site, rule, incremental, suffix)}
SELECT {{site:String}}, visitor_key, '{rule.id}', {rule.version}, window_start, window_end,
       value, evidence, toDateTime64(window_end, 3),
       window_end + INTERVAL {site.retention_days} DAY
FROM ({rule.sql(overrides, usual)})
"""


def baseline_sql(site: SiteSettings, rule: SignalRule, suffix: str = "") -> str:
    """``rule``'s baseline counts over one bucket of the visitors it looks at."""
    return f"WITH {_events_sql(site, rule, False, suffix)}\n{rule.baseline}"


@dataclass
class SignalsRun:
    found: dict[str, int] = field(default_factory=dict)  # rule id -> rows written
    sites: int = 0


class SignalsJob(StoreJob):
    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(store, settings, clock)
        self._watermarks = Watermarks(store, JOB)
        self._rechecks = Watermarks(store, "signals.recheck")
        self._medians: dict[tuple[str, str, int], dict[str, float]] = {}
        """A baseline's medians per site, rule and shard, from the last look at everyone."""
        self._next_recheck: dict[str, datetime] = {}  # per site, from its last run

    def recheck_due(self) -> bool:
        """Whether a site's look at everyone is due, with nothing new to read (``Job.due``):
        as far as this process's runs know."""
        now = self._clock()
        return any(due <= now for due in self._next_recheck.values())

    def run_once(
        self, full: bool = False, since: datetime | None = None, progress: Progress = SILENT
    ) -> SignalsRun:
        """Compute every rule for every site.

        ``full`` ignores the watermarks and looks at every consented visitor (a backfill);
        ``since`` also limits that backfill to events from then on.
        """
        with self._lock:
            run = SignalsRun()
            progress.begin(len(self._settings.sites) * len(RULES), JOB)
            for site in self._settings.sites:
                self._run_site(site, run, full or since is not None, since, progress)
                run.sites += 1
            return run

    def _run_site(
        self,
        site: SiteSettings,
        run: SignalsRun,
        full: bool,
        since: datetime | None,
        progress: Progress,
    ) -> None:
        as_of = self._clock()
        reading = self._watermarks.reading(site.id)
        last_recheck = self._rechecks.get(site.id)
        recheck = full or as_of - last_recheck >= RECHECK
        self._next_recheck[site.id] = (as_of if recheck else last_recheck) + RECHECK
        if not recheck and self._watermarks.already_read(site.id, reading):
            return
        changed_since = EPOCH if full else reading.since
        before = self._counts(site.id)
        # New events of visitors without analytics consent (most of a site's traffic)
        # move the watermark but give the rules no one to look at: a scoped statement
        # would still read the whole window's events to find nobody.
        anyone_new = full or self._anyone_new(site.id, changed_since)
        for rule in RULES:
            scoped = not full and (rule.incremental or not recheck)
            if scoped and not anyone_new:
                progress.advance(f"{site.id} {rule.id}")
                continue
            lookback = as_of - timedelta(days=max(site.retention_days, rule.window_days))
            parameters = {
                "site": site.id,
                "funnel": site.funnel,
                "as_of": as_of,
                "since": max(lookback, since) if since is not None else lookback,
                "changed_since": changed_since,
            }
            shares = self._shares(parameters, scoped)
            everyone = shares if not scoped else None  # a baseline's shares, counted once
            for shard, (target, suffix) in enumerate(self._store.shard_targets()):
                key = (site.id, rule.id, shard)
                if rule.baseline and (recheck or key not in self._medians):
                    everyone = everyone or self._shares(parameters, scoped=False)
                    self._medians[key] = self._usual(target, site, rule, suffix, everyone)
                usual = self._medians.get(key, {})
                for bucket in shares:
                    target.command(rule_insert_sql(site, rule, scoped, suffix, usual), bucket)
            progress.advance(f"{site.id} {rule.id}")
        after = self._counts(site.id)
        for rule in RULES:
            new = after.get(rule.id, 0) - before.get(rule.id, 0)
            run.found[rule.id] = run.found.get(rule.id, 0) + new
        self._watermarks.advance(site.id, reading.mark, as_of)
        self._watermarks.read(site.id, reading)
        if recheck:
            self._rechecks.advance(site.id, as_of, as_of)

    def _anyone_new(self, site: str, changed_since: datetime) -> bool:
        """Whether a scoped rule has anyone to look at (``_new_visitors``)."""
        found = self._store.scalar(
            f"SELECT count() > 0 FROM ({_new_visitors()})",
            {"site": site, "changed_since": changed_since},
        )
        return bool(found)

    def _shares(self, parameters: dict[str, Any], scoped: bool) -> list[dict[str, Any]]:
        """``parameters`` once per bucket of the visitors a statement reads (those with
        new events only, when ``scoped``)."""
        read = (
            "SELECT count() FROM events WHERE site = {site:String} "
            "AND identity = 'analytics' AND ts >= {since:DateTime64(3, 'UTC')} " + _scope(scoped)
        )
        return each_bucket(parameters, bucket_count(self._store, read, parameters))

    @staticmethod
    def _usual(
        target: Store,
        site: SiteSettings,
        rule: SignalRule,
        suffix: str,
        everyone: list[dict[str, Any]],
    ) -> dict[str, float]:
        """The medians of ``rule``'s baseline over every consented visitor (``everyone``:
        their shares), whichever visitors its findings are for. As costly as a look at
        everyone: counted then, and kept until the next."""
        sql = baseline_sql(site, rule, suffix)
        return medians(row for bucket in everyone for row in target.rows(sql, bucket))

    def _counts(self, site: str) -> dict[str, int]:
        """Stored findings per rule of one site."""
        rows = self._store.rows(
            "SELECT rule_id, count() FROM signals FINAL WHERE site = {site:String} "
            "GROUP BY rule_id",
            {"site": site},
        )
        return {str(rule_id): int(count) for rule_id, count in rows}
