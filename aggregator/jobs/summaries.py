"""The site summaries job: each day's aggregates for the dashboard, k-anonymous.

Per site, the days with events or server events stored since the job's watermark (minus
the late grace) and the days either side of them, plus today and yesterday, are
recomputed inside ClickHouse (a handful of ``GROUP BY`` queries, each returning a few rows
per day), then ``aggregator.signals.k_anonymity`` decides what may be published and
everything is written to ``site_summaries``:

- ``visitors``, then the funnel (``funnel_reached``, one group per step of the site's
  ``funnel``), as one chain: the day's visitors and ever smaller subsets of them;
- ``identified_visitors`` (with analytics consent) and ``signal_visitors`` per rule, as
  subsets of the day's visitors and of the identified visitors;
- ``sessions`` and ``pageviews``, shown when the day's visitors are;
- ``rage_click`` / ``dead_click`` hot spots per page and element, the 20 with most clicks;
- ``effort``: the support journeys and the checkouts that ended that day by their effort
  (``aggregator.signals.effort``: the customer effort distribution per task), each bucket
  shown with k customers or more.

A group that was published before and is gone now is rewritten as suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aggregator.jobs.buckets import IN_BUCKET, bucket_count, each_bucket
from aggregator.jobs.days import DayJob, DaysRun
from aggregator.signals.effort import (
    CHECKOUT,
    EFFORT_BUCKET,
    FUNNEL_STEP,
    SUPPORT_JOURNEY,
    checkout_journeys,
    support_journeys,
)
from aggregator.signals.k_anonymity import Group, chain, independent, subsets_of_totals
from aggregator.signals.sessionise import sessionised_events
from clearsignal.settings import SiteSettings

__all__ = ["HOT_SPOTS_PER_DAY", "SummariesJob", "SummariesRun"]

JOB = "summaries.compute"
HOT_SPOTS_PER_DAY = 20
DAYS_PER_QUERY = 31
_DAYS = "{site:String} AND toDate(ts) IN {days:Array(Date)}"
COLUMNS = ("site", "day", "metric", "dimension", "value", "visitors", "suppressed", "computed_at")


@dataclass
class SummariesRun(DaysRun):
    published: int = 0
    suppressed: int = 0


@dataclass
class _Day:
    visitors: int = 0
    identified: int = 0
    pageviews: int = 0
    sessions: int = 0


class SummariesJob(DayJob[SummariesRun]):
    job = JOB
    days_per_call = DAYS_PER_QUERY

    def _new_run(self) -> SummariesRun:
        return SummariesRun()

    def _days(self, site: SiteSettings, since: datetime | None, changed: datetime) -> list[date]:
        today = self._clock().date()
        if since is not None:
            first = max(since.date(), today - timedelta(days=site.retention_days))
            return [first + timedelta(days=n) for n in range((today - first).days + 1)]
        # Server events make findings on their own days (signal_visitors), browser or not.
        touched = self._store.rows(
            "SELECT DISTINCT toDate(ts) FROM events WHERE site = {site:String} "
            "AND stored_at > {changed_since:DateTime64(3, 'UTC')} "
            "UNION DISTINCT SELECT DISTINCT toDate(ts) FROM server_events "
            "WHERE site = {site:String} AND stored_at > {changed_since:DateTime64(3, 'UTC')}",
            {"site": site.id, "changed_since": changed},
        )
        # A checkout (a session) that crosses midnight is counted on the day it ends: a
        # day's events can change its neighbours' too.
        near = {d + timedelta(days=n) for (d,) in touched for n in (-1, 0, 1)}
        return sorted({d for d in near if d <= today} | {today, today - timedelta(days=1)})

    def _compute(
        self, site: SiteSettings, days: list[date], newest: datetime, run: SummariesRun
    ) -> None:
        parameters: dict[str, Any] = {"site": site.id, "days": days}
        totals = self._totals(parameters)
        funnels = self._funnel(site, parameters)
        groups: dict[tuple[date, str], list[Group]] = {}
        for day in days:
            found = totals.get(day)
            if found is None:  # no events that day: nothing to publish or hide
                continue
            shown = found.visitors >= site.k_anonymity
            funnel = funnels.get(
                day, [Group(f"{n:02d} {name}", 0, 0) for n, name in enumerate(site.funnel, start=1)]
            )
            visitors_and_funnel = chain(
                [Group("", found.visitors, found.visitors), *funnel], site.k_anonymity
            )
            groups[(day, "visitors")] = visitors_and_funnel[:1]
            groups[(day, "funnel_reached")] = visitors_and_funnel[1:]
            groups[(day, "identified_visitors")] = subsets_of_totals(
                [Group("", found.identified, found.identified)], [found.visitors], site.k_anonymity
            )
            for metric, value in (("sessions", found.sessions), ("pageviews", found.pageviews)):
                group = Group("", found.visitors, float(value))
                groups[(day, metric)] = [group if shown else group.hidden()]
        for (day, rule), count in self._signal_visitors(parameters).items():
            total = totals.get(day, _Day())
            groups.setdefault((day, "signal_visitors"), []).extend(
                subsets_of_totals(
                    [Group(rule, count, count)],
                    [total.identified, total.visitors],
                    site.k_anonymity,
                )
            )
        for (day, kind), spots in self._hot_spots(parameters | {"k": site.k_anonymity}).items():
            groups[(day, kind)] = independent(spots, site.k_anonymity)
        for day, buckets in self._efforts(site, parameters).items():
            groups[(day, "effort")] = independent(buckets, site.k_anonymity)
        self._write(site, days, groups, newest, run)

    def _totals(self, parameters: dict[str, Any]) -> dict[date, _Day]:
        days: dict[date, _Day] = {}
        for day, visitors, identified, pageviews in self._store.rows(
            "SELECT toDate(ts) AS day, uniqExact(visitor_key), "
            "uniqExactIf(visitor_key, identity = 'analytics'), countIf(type = 'pageview') "
            f"FROM events FINAL WHERE site = {_DAYS} GROUP BY day",
            parameters,
        ):
            days[day] = _Day(int(visitors), int(identified), int(pageviews))
        for day, sessions in self._store.rows(
            "SELECT toDate(session_start) AS day, count() FROM sessions FINAL "
            "WHERE site = {site:String} AND day IN {days:Array(Date)} GROUP BY day",
            parameters,
        ):
            days.setdefault(day, _Day()).sessions = int(sessions)
        return days

    def _funnel(self, site: SiteSettings, parameters: dict[str, Any]) -> dict[date, list[Group]]:
        """Per day, the visitors who reached each funnel step (in order, within the day)."""
        steps = {f"step{n}": name for n, name in enumerate(site.funnel)}
        conditions = ", ".join(f"name = {{{key}:String}}" for key in steps)
        levels: dict[date, dict[int, int]] = {}
        for day, level, count in self._store.rows(
            "SELECT day, level, count() FROM ("
            "  SELECT toDate(ts) AS day, visitor_key, "
            f"        windowFunnel(86400000)(toUInt64(toUnixTimestamp64Milli(ts)), {conditions}) AS level"
            f"  FROM events FINAL WHERE site = {_DAYS} AND type = 'step'"
            "  GROUP BY day, visitor_key"
            ") GROUP BY day, level",
            parameters | steps,
        ):
            levels.setdefault(day, {})[int(level)] = int(count)
        return {
            day: [
                Group(f"{n:02d} {name}", reached, reached)
                for n, name in enumerate(site.funnel, start=1)
                for reached in [sum(c for level, c in by_level.items() if level >= n)]
            ]
            for day, by_level in levels.items()
        }

    def _signal_visitors(self, parameters: dict[str, Any]) -> dict[tuple[date, str], int]:
        return {
            (day, str(rule)): int(count)
            for day, rule, count in self._store.rows(
                "SELECT toDate(window_end) AS day, rule_id, uniqExact(visitor_key) "
                "FROM signals FINAL WHERE site = {site:String} AND day IN {days:Array(Date)} "
                "GROUP BY day, rule_id",
                parameters,
            )
        }

    def _hot_spots(self, parameters: dict[str, Any]) -> dict[tuple[date, str], list[Group]]:
        spots: dict[tuple[date, str], list[Group]] = {}
        for day, kind, path, selector, clicks, visitors in self._store.rows(
            "SELECT toDate(ts) AS day, type, path, element['sel'] AS selector, count() AS clicks, "
            "uniqExact(visitor_key) AS visitors "
            f"FROM events FINAL WHERE site = {_DAYS} AND type IN ('rage_click', 'dead_click') "
            "GROUP BY day, type, path, selector "
            f"ORDER BY day, type, visitors >= {{k:UInt32}} DESC, clicks DESC, path, selector "
            f"LIMIT {HOT_SPOTS_PER_DAY} BY day, type",
            parameters,
        ):
            group = Group(f"{path} {selector}".strip(), int(visitors), float(clicks))
            spots.setdefault((day, str(kind)), []).append(group)
        return spots

    def _efforts(self, site: SiteSettings, parameters: dict[str, Any]) -> dict[date, list[Group]]:
        """Per day a task ended, its tasks of each effort (dimension ``<task> <steps>``:
        ``support_journey`` or ``checkout``; steps 1, 2, 3, 4-5, 6-9, 10+), with the
        customers (or visitors) they were of."""
        # Only the tickets with an event on one of the days can have ended on one of them:
        # the rest of the site's history is not grouped again on every run.
        touched = (
            "SELECT customer_key, attributes['ticket'] FROM server_events "
            f"WHERE site = {_DAYS} AND attributes['ticket'] != ''"
        )
        journeys = support_journeys(
            "(SELECT * FROM server_events FINAL WHERE site = {site:String} "
            f"AND (customer_key, attributes['ticket']) IN ({touched}))",
            "customer_key",
        )
        # A checkout is part of a session: the days' events and their neighbours' hold
        # every session that ended on one of the days, whole. Over many events, a share of
        # the visitors at a time (aggregator.jobs.buckets): tasks and people add up.
        near = (
            "site = {site:String} AND (toDate(ts) IN {days:Array(Date)} "
            "OR toDate(ts) + 1 IN {days:Array(Date)} OR toDate(ts) - 1 IN {days:Array(Date)})"
        )
        sessions = sessionised_events(
            f"SELECT * FROM events FINAL WHERE {near} AND {IN_BUCKET}", FUNNEL_STEP
        )
        checkouts = checkout_journeys(f"({sessions})", "visitor_key")

        def by_task(tasks: str) -> str:
            return (
                f"SELECT toDate(ended) AS day, {{task:String}}, {EFFORT_BUCKET} AS bucket, "
                f"count(), uniqExact(person) FROM ({tasks}) WHERE day IN {{days:Array(Date)}} "
                "GROUP BY day, bucket"
            )

        journeys_of = by_task(f"SELECT customer_key AS person, ended, effort FROM ({journeys})")
        checkouts_of = by_task(f"SELECT visitor_key AS person, ended, effort FROM ({checkouts})")
        read = bucket_count(self._store, f"SELECT count() FROM events WHERE {near}", parameters)
        statements = [(journeys_of, parameters | {"task": SUPPORT_JOURNEY})] + [
            (checkouts_of, bucket)
            for bucket in each_bucket(parameters | {"task": CHECKOUT, "funnel": site.funnel}, read)
        ]
        added: dict[tuple[date, str, str], list[int]] = {}
        for sql, values in statements:
            for day, task, bucket, count, people in self._store.rows(sql, values):
                total = added.setdefault((day, str(task), str(bucket)), [0, 0])
                total[0] += int(count)
                total[1] += int(people)
        found: dict[date, list[Group]] = {}
        for (day, task, bucket), (count, people) in sorted(added.items()):
            found.setdefault(day, []).append(Group(f"{task} {bucket}", people, float(count)))
        return found

    def _write(
        self,
        site: SiteSettings,
        days: list[date],
        groups: dict[tuple[date, str], list[Group]],
        newest: datetime,
        run: SummariesRun,
    ) -> None:
        rows = [
            (site.id, day, metric, g.dimension, g.value, g.visitors, g.suppressed, newest)
            for (day, metric), found in groups.items()
            for g in found
        ]
        written = {(day, metric, dimension) for _, day, metric, dimension, *_ in rows}
        for day, metric, dimension in self._store.rows(
            "SELECT day, metric, dimension FROM site_summaries FINAL "
            "WHERE site = {site:String} AND day IN {days:Array(Date)} AND NOT suppressed",
            {"site": site.id, "days": days},
        ):
            if (day, str(metric), str(dimension)) not in written:
                rows.append((site.id, day, str(metric), str(dimension), 0.0, 0, True, newest))
        if rows:
            self._store.insert("site_summaries", rows, COLUMNS)
        run.suppressed += sum(1 for row in rows if row[6])
        run.published += sum(1 for row in rows if not row[6])
