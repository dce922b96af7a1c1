"""The analytics' answer times over 10 M events: every panel of /admin/analytics for 30
days, from the rollup the analytics job keeps (``visitor_days``) and, for comparison,
straight from ``events``.

    .venv/bin/python bench/dashboard.py [--events 1000000] [--copies 10] [--data DIR]
        [--engine 'max_threads=1&...'] [--repeat 3]

1. The store: a simulated shop's 30 days grown ``--copies`` times (bench/small_server.py's
   generator), kept in ``--data`` and reused.
2. The sessions and analytics jobs run over it once (a backfill): their time and the
   process's peak memory.
3. For the last 30 days of the data, without filters and with two (a page and a
   country): each panel's time (the best of ``--repeat``, after a first, cold, run),
   then the whole page (``read_analytics``: every panel, with and without the period
   before), and the top pages and the visitor total computed straight from ``events``
   the way the analytics did before the rollup.

Targets (issue: fast answers): each panel <= 300 ms, the whole page <= 1 s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from small_server import generate

from aggregator.jobs.analytics import AnalyticsJob
from aggregator.jobs.sessions import SessionsJob
from aggregator.reports.analytics import Question, SiteAnalytics
from aggregator.reports.breakdowns import BREAKDOWNS
from aggregator.reports.filters import Filters
from aggregator.reports.periods import Period
from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.clock import utc_now
from clearsignal.settings import Settings, StoreSettings
from collector.admin.analytics_view import read_analytics

_EVENTS_PAGES = (
    "SELECT path, uniqExact(visitor_key), count() FROM events WHERE site = 'demo' "
    "AND type = 'pageview' AND ts >= {start:DateTime64(3, 'UTC')} "
    "AND ts < {end:DateTime64(3, 'UTC')} GROUP BY path"
)
_EVENTS_TOTAL = (
    "SELECT uniqExact(visitor_key) FROM events WHERE site = 'demo' "
    "AND ts >= {start:DateTime64(3, 'UTC')} AND ts < {end:DateTime64(3, 'UTC')}"
)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """The first (cold) run's seconds, and the best of ``repeat`` runs after it."""
    started = time.perf_counter()
    call()
    cold = time.perf_counter() - started
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return cold, best


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def panels(store: Store, settings: Settings, question: Question, repeat: int) -> list[float]:
    analytics = SiteAnalytics(store, settings.sites[0])
    rows = [("summary", lambda: analytics.answer(question).summary())]
    rows += [(name, lambda name=name: analytics.answer(question).table(name, 10))
             for name in BREAKDOWNS]  # fmt: skip
    rows.append(("realtime", analytics.realtime))
    best = []
    for name, call in rows:
        cold, warm = timed(call, repeat)
        best.append(warm)
        print(f"  {name:<18} cold {ms(cold)}   warm {ms(warm)}", flush=True)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--data", type=Path, help="keep the data here, and reuse it next time")
    parser.add_argument("--engine", default="", help="engine settings for the DSN's query string")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    directory = args.data or Path(tempfile.mkdtemp(prefix="cs-dashboard-"))
    if not (directory / "clickhouse").exists():
        generate(directory, args.events, args.copies)
    dsn = f"chdb://{directory}/clickhouse?{args.engine}".rstrip("?")
    settings = Settings(
        data_dir=directory / "data", store=StoreSettings(dsn=dsn, database="clearsignal")
    )
    store = open_store(settings.dsn, settings.store.database)
    migrate(store)
    events = int(store.scalar("SELECT count() FROM events"))
    last: date = store.scalar("SELECT toDate(max(ts)) FROM events")
    print(f"{events:,} events, the last on {last}; peak {peak_mib():.0f} MiB", flush=True)

    since = datetime(2000, 1, 1, tzinfo=UTC)
    clock = lambda: datetime.combine(last, datetime.min.time(), UTC) + timedelta(days=1)  # noqa: E731
    # The jobs' clock is a day ahead, as the reads' is (the data's last day is over), and
    # moves on, as a server's does: each run's rows replace the last run's (reused data).
    jobs_clock = lambda: utc_now() + timedelta(days=1)  # noqa: E731
    for job in (
        SessionsJob(store, settings, jobs_clock),
        AnalyticsJob(store, settings, jobs_clock),
    ):
        started = time.perf_counter()
        job.run_once(since)
        took = time.perf_counter() - started
        print(f"{type(job).__name__}: {took:.1f} s; peak {peak_mib():.0f} MiB", flush=True)
    rows = int(store.scalar("SELECT count() FROM visitor_days FINAL"))
    stored = int(store.scalar("SELECT count() FROM visitor_days"))
    print(
        f"visitor_days: {rows:,} rows ({events / max(rows, 1):.1f} events a row), "
        f"{stored:,} stored (the rest: an earlier run's, not yet deleted)",
        flush=True,
    )

    period = Period("custom", last - timedelta(days=29), last)
    top_page = store.scalar(
        "SELECT path FROM events WHERE type = 'pageview' GROUP BY path ORDER BY count() DESC LIMIT 1"
    )
    country = store.scalar(
        "SELECT country FROM events GROUP BY country ORDER BY count() DESC LIMIT 1"
    )
    filtered = Filters.parse({"page": top_page, "country": country} if country else
                             {"page": top_page}, [])  # fmt: skip
    for label, question in (
        ("30 days, no filter", Question(period)),
        (f"30 days, filters {filtered.as_query()}", Question(period, filtered)),
    ):
        print(f"{label}:", flush=True)
        best = panels(store, settings, question, args.repeat)
        print(f"  slowest panel: {ms(max(best))} (target 300 ms)", flush=True)
        for compare in (False, True):
            cold, warm = timed(
                lambda compare=compare, question=question: read_analytics(
                    store, settings.sites[0], question, compare, clock
                ),
                args.repeat,
            )
            what = "with the period before" if compare else "alone"
            print(f"  whole page, {what}: cold {ms(cold)}   warm {ms(warm)} (target 1 s)")
    parameters = {
        "start": datetime.combine(period.first, datetime.min.time(), UTC),
        "end": datetime.combine(period.last + timedelta(days=1), datetime.min.time(), UTC),
    }
    print("straight from events, 30 days, no filter:", flush=True)
    for name, sql in (("top pages", _EVENTS_PAGES), ("visitor total", _EVENTS_TOTAL)):
        cold, warm = timed(lambda sql=sql: store.rows(sql, parameters), args.repeat)
        print(f"  {name:<18} cold {ms(cold)}   warm {ms(warm)}", flush=True)
    print(f"peak resident memory of this process: {peak_mib():.0f} MiB", flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
