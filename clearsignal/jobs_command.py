"""``clearsignal jobs list | run | run-once NAME...``."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from clearsignal.settings import Settings

__all__ = ["add_jobs_parser"]


def _list(settings: Settings, args: argparse.Namespace) -> int:
    from collector.metrics import CollectorMetrics
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
    from collector.metrics import CollectorMetrics
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
            outcome = services.jobs.run(name)
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
    from aggregator.scheduler import Scheduler
    from collector.metrics import CollectorMetrics
    from collector.runtime import open_runtime

    services = open_runtime(settings, CollectorMetrics(), serving=False)
    scheduler = Scheduler(services.jobs)
    stop = threading.Event()

    def request_stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler.start()
    print(f"running {len(services.jobs.jobs)} jobs; stop with Ctrl-C", flush=True)
    try:
        stop.wait()
    finally:
        scheduler.stop()
        services.close()
    return 0


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
    once.set_defaults(handler=_run_once)
