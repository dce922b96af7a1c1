"""``clearsignal jobs list | run | run-once NAME...``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from clearsignal.settings import Settings

__all__ = ["add_jobs_parser"]


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from collector.ingest.metrics import CollectorMetrics
    from collector.runtime import open_runtime

    services = open_runtime(settings, CollectorMetrics(), serving=False)
    try:
        last = {
            str(job): (status, finished)
            for job, status, finished in services.store.rows(
                "SELECT job, argMax(status, finished_at), max(finished_at) FROM job_runs "
                "GROUP BY job"
            )
        }
        for job in services.jobs.jobs.values():
            status, finished = last.get(job.name, ("never run", None))
            when = f" at {finished:%Y-%m-%d %H:%M:%S} UTC" if finished else ""
            print(f"{job.name:<20} every {job.seconds:g} s  last: {status}{when}")
            print(f"{'':<20} {job.description}")
    finally:
        services.close()
    return 0


def _run_once(settings: Settings, args: argparse.Namespace) -> int:
    from collector.ingest.metrics import CollectorMetrics
    from collector.runtime import open_runtime

    services = open_runtime(settings, CollectorMetrics(), serving=False)
    failed = 0
    try:
        names = list(services.jobs.jobs) if args.names == ["all"] else args.names
        unknown = [name for name in names if name not in services.jobs.jobs]
        if unknown:
            known = ", ".join(services.jobs.jobs)
            print(f"clearsignal: no job named {', '.join(unknown)}; the jobs are: {known}")
            return 2
        for name in names:
            with _Bar(shown=not args.quiet) as progress:
                outcome = services.jobs.run(name, since=args.since, progress=progress)
            result = outcome.result
            print(
                f"{name}: {outcome.status} in {outcome.seconds:.2f} s, {result.rows_in} in, "
                f"{result.rows_out} out{f' ({result.detail})' if result.detail else ''}"
                f"{f': {outcome.error}' if outcome.error else ''}"
            )
            failed += outcome.status != "ok"
    finally:
        services.close()
    return 1 if failed else 0


def _scheduler(settings: Settings, args: argparse.Namespace) -> int:
    from clearsignal.process_memory import decline_data_frame_libraries

    decline_data_frame_libraries()  # before the store's clients are imported
    from aggregator.jobs.scheduler import Scheduler
    from collector.ingest.metrics import CollectorMetrics
    from collector.runtime import open_runtime

    services = open_runtime(settings, CollectorMetrics(), serving=False)
    scheduler = Scheduler(services.jobs)
    stop = threading.Event()

    def request_stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    standby = services.jobs.standby_reason()
    scheduler.start()
    if standby is None:
        print(f"running {len(services.jobs.jobs)} jobs; stop with Ctrl-C", flush=True)
    else:
        print(f"standing by: {standby}; takes over when it ends. Stop with Ctrl-C", flush=True)
    try:
        stop.wait()
    finally:
        scheduler.stop()
        services.close()
    return 0


class _Bar:
    """A progress bar on stderr for ``run-once`` (``aggregator.jobs.progress.Progress``)."""

    def __init__(self, shown: bool) -> None:
        self._shown = shown
        self._bar: Any = None

    def begin(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total, desc=label, unit=" steps", file=sys.stderr, disable=not self._shown
        )

    def advance(self, label: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(label, refresh=False)
            self._bar.update(1)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date or time; use e.g. 2026-11-01 or 2026-11-01T08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_jobs_parser(commands: Any) -> None:
    jobs = commands.add_parser(
        "jobs",
        help="list, run or schedule the background jobs (log sequencer, erasure, ...)",
        description="The jobs a deployment runs on a schedule. `clearsignal serve` runs them "
        "in-process by default (settings: [jobs]); against a ClickHouse server with several "
        "collectors, run `clearsignal jobs run` in exactly one process.",
    )
    actions = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="each job, its interval and its last run").set_defaults(
        handler=_list
    )
    actions.add_parser(
        "run",
        help="run the scheduler alone, without the web server (one process per deployment)",
    ).set_defaults(handler=_scheduler)
    once = actions.add_parser("run-once", help="run jobs once, now (exit 1 if one fails)")
    once.add_argument("names", nargs="+", metavar="NAME", help="job names, or 'all'")
    once.add_argument(
        "--since",
        type=_since,
        metavar="DATE",
        help="recompute from this date or time (UTC unless given) on, ignoring what the "
        "jobs already processed: a backfill after changing a rule or a threshold",
    )
    once.add_argument("--quiet", action="store_true", help="no progress bar")
    once.set_defaults(handler=_run_once)
