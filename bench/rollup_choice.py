"""Rollups kept by the analytics job, or by a materialized view: which answers faster, and
what each costs.

    .venv/bin/python bench/rollup_choice.py --data DIR [--days 30] [--block 10000]
        [--repeat 3]

DIR is a store made by bench/dashboard.py: its events, and the analytics job's visitor sets
(``row_visitors``) over them, which this bench recomputes as bench/dashboard.py does. The
copies of ``events`` and the view are in a scratch database of the same engine, dropped
at the end:

1. Ingest. The period's events (read FINAL) are inserted again in blocks of ``--block``
   rows, as the spool writer inserts them: into a copy of ``events`` without a view, then
   into a copy with a materialized view that keeps every table of days the way a view
   can. That is, per site, table, day and row, a bitmap of the visitors' 64-bit hashes
   (``groupBitmap``) and the hits, in an ``AggregatingMergeTree``. A view sees one
   insert's block at a time: it can neither number the visitors densely (the job's
   32-bit bitmaps) nor tell a retried event from a new one. Printed: both inserts' times
   and the ratio. The job's cost is beside them: its backfill of every day, deletes and
   compaction included, and that per day (a run in the steady state recomputes the
   current day, a day's events so far).
2. Reads over the period, each the best of ``--repeat`` after a cold run, from the job's
   ``row_visitors`` and from the view's table: the top pages (visitors and pageviews), the
   visitor total, and the top pages among the visitors of the top country (a filter: a
   bitmap intersection). Both must count the same visitors, which is checked.
3. The bytes each keeps on disk, and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.jobs.analytics import AnalyticsJob
from aggregator.reports.breakdowns import DAY_TABLES, EVERYONE, ROLLUP
from aggregator.store.client import Store, open_store
from clearsignal.clock import utc_now
from clearsignal.settings import Settings, StoreSettings

SCRATCH = "rollup_choice"
_ROWS = f"""
CREATE TABLE {SCRATCH}.row_days (
    site LowCardinality(String), breakdown LowCardinality(String), day Date, row String,
    visitors AggregateFunction(groupBitmap, UInt64), hits SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (site, breakdown, day, row)
"""


def _entries() -> str:
    """Per event, the rows of the tables of days it counts in: (table, row, hits)."""
    rollup = {b.keys: b for b in DAY_TABLES if b.name != EVERYONE}
    entries = [
        f"if({ROLLUP[keys].where_sql}, ('{b.name}', toString({ROLLUP[keys].key_sql}), "
        f"toUInt64({ROLLUP[keys].value_sql})), ('', '', toUInt64(0)))"
        for keys, b in rollup.items()
    ]
    entries.append(f"('{EVERYONE}', toString(toDate(ts)), toUInt64(type = 'pageview'))")
    return f"arrayFilter(e -> e.1 != '', [{', '.join(entries)}])"


def _view() -> str:
    return f"""
CREATE MATERIALIZED VIEW {SCRATCH}.row_days_view TO {SCRATCH}.row_days AS
SELECT site, entry.1 AS breakdown, toDate(ts) AS day, entry.2 AS row,
       groupBitmapState(sipHash64(visitor_key)) AS visitors, sum(entry.3) AS hits
FROM {SCRATCH}.events_viewed ARRAY JOIN {_entries()} AS entry
GROUP BY site, breakdown, day, row
"""


def timed(
    store: Store, sql: str, parameters: dict[str, Any], repeat: int
) -> tuple[float, list[tuple[Any, ...]]]:
    started = time.perf_counter()
    rows = store.rows(sql, parameters)
    best = time.perf_counter() - started
    for _ in range(repeat):
        started = time.perf_counter()
        rows = store.rows(sql, parameters)
        best = min(best, time.perf_counter() - started)
    return best, rows


_PERIOD = "site = 'demo' AND day >= {first:Date} AND day <= {last:Date}"


def reads(table: str, union: str, views: str) -> dict[str, str]:
    """The three reads over ``table`` (``union``: its aggregate of bitmaps; ``views``: its
    pageviews of a row)."""
    final = " FINAL" if table == "row_visitors" else ""
    rows = f"FROM {table}{final} WHERE {_PERIOD}"
    country = (
        f"(SELECT {union}(visitors) {rows} AND breakdown = 'countries' "
        "AND row = {country:String})"
    )
    return {
        "top pages": f"SELECT row, bitmapCardinality({union}(visitors)) AS v, {views} AS n "
        f"{rows} AND breakdown = 'pages' GROUP BY row ORDER BY v DESC, row LIMIT 10",
        "visitor total": f"SELECT bitmapCardinality({union}(visitors)) {rows} "
        f"AND breakdown = '{EVERYONE}'",
        "top pages, one country": f"WITH {country} AS s SELECT row, "
        f"bitmapAndCardinality({union}(visitors), s) AS v {rows} AND breakdown = 'pages' "
        "GROUP BY row ORDER BY v DESC, row LIMIT 10",
    }


def insert_seconds(store: Store, table: str, parameters: dict[str, Any], block: int) -> float:
    started = time.perf_counter()
    store.command(
        f"INSERT INTO {SCRATCH}.{table} SELECT * FROM events FINAL WHERE site = 'demo' "
        "AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {end:DateTime64(3, 'UTC')} "
        f"SETTINGS max_block_size = {block}, min_insert_block_size_rows = {block}, "
        "min_insert_block_size_bytes = 0",
        parameters,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--block", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dsn = f"chdb://{args.data}/clickhouse"
    settings = Settings(
        data_dir=args.data / "data", store=StoreSettings(dsn=dsn, database="clearsignal")
    )
    store = open_store(dsn, "clearsignal")
    last: date = store.scalar("SELECT toDate(max(ts)) FROM events")
    first = last - timedelta(days=args.days - 1)
    start = datetime.combine(first, datetime.min.time(), UTC)
    parameters = {"first": first, "last": last, "start": start,
                  "end": start + timedelta(days=args.days)}  # fmt: skip
    store.command(f"DROP DATABASE IF EXISTS {SCRATCH}")
    store.command(f"CREATE DATABASE {SCRATCH}")
    differ = False
    try:
        for table in ("events_plain", "events_viewed"):
            store.command(f"CREATE TABLE {SCRATCH}.{table} AS events")
        store.command(_ROWS)
        store.command(_view())
        events = int(store.scalar(
            "SELECT count() FROM events FINAL WHERE site = 'demo' "
            "AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {end:DateTime64(3, 'UTC')}",
            parameters))  # fmt: skip
        print(f"{events:,} events from {first} to {last}, in blocks of {args.block:,}")
        plain = insert_seconds(store, "events_plain", parameters, args.block)
        viewed = insert_seconds(store, "events_viewed", parameters, args.block)
        print(f"  insert without a view: {plain:6.1f} s ({events / plain:,.0f} events/s)")
        print(f"  insert with the view:  {viewed:6.1f} s ({events / viewed:,.0f} events/s): "
              f"{viewed / plain:.2f}x the time")  # fmt: skip
        # A day ahead and moving on, as bench/dashboard.py's: this run's rows replace the
        # last run's (reused data).
        clock = lambda: utc_now() + timedelta(days=1)  # noqa: E731
        started = time.perf_counter()
        run = AnalyticsJob(store, settings, clock).run_once(since=datetime(2000, 1, 1, tzinfo=UTC))
        job = time.perf_counter() - started
        print(f"  the job's backfill of {run.days} days: {job:.1f} s, "
              f"{job / max(run.days, 1):.1f} s a day")  # fmt: skip

        country = store.scalar(
            f"SELECT row FROM row_visitors FINAL WHERE {_PERIOD} AND breakdown = 'countries' "
            "GROUP BY row ORDER BY sum(bitmapCardinality(visitors)) DESC LIMIT 1",
            parameters,
        )
        asked = parameters | {"country": country}
        by_job = reads("row_visitors", "groupBitmapOrState",
                       "sum(hits * bitmapCardinality(visitors))")  # fmt: skip
        by_view = reads(f"{SCRATCH}.row_days", "groupBitmapMergeState", "sum(hits)")
        print(f"reads over {args.days} days (country: {country}):")
        for name in by_job:
            job_time, job_rows = timed(store, by_job[name], asked, args.repeat)
            view_time, view_rows = timed(store, by_view[name], asked, args.repeat)
            differ = differ or job_rows != view_rows
            same = "DIFFERENT rows" if job_rows != view_rows else "the same rows"
            print(f"  {name:<24} job {job_time * 1000:6.0f} ms   view {view_time * 1000:6.0f} ms"
                  f"   {view_time / job_time:.1f}x; {same}")  # fmt: skip
        sizes = store.rows(
            "SELECT database || '.' || table, sum(rows), sum(bytes_on_disk) FROM system.parts "
            "WHERE active AND ((database = 'clearsignal' AND table = 'row_visitors') "
            f"OR (database = '{SCRATCH}' AND table = 'row_days')) GROUP BY 1 ORDER BY 1"
        )
        for table, rows, size in sizes:
            print(f"  {table:<24} {rows:>10,} rows {size / 2**20:8.1f} MiB on disk")
        print(f"  ({len(DAY_TABLES)} tables of days in each)")
    finally:
        store.command(f"DROP DATABASE IF EXISTS {SCRATCH}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of this process: {peak:.0f} MiB")
        store.close()
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
