"""``clearsignal demo seed``: the demo shop's history, simulated once (``make run`` runs it)."""

from __future__ import annotations

import argparse
from typing import Any

from clearsignal.settings import Settings

__all__ = ["add_demo_parser"]


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from collector.ingest.metrics import CollectorMetrics
    from collector.runtime import open_runtime
    from simulator.demo_seed import seed_demo

    if not settings.demo:
        print("Demo mode is off (setting `demo`): nothing to seed.")
        return 0
    services = open_runtime(settings, CollectorMetrics(), serving=False)
    try:
        asked = {"visitors": args.visitors, "days": args.days, "seed": args.seed}
        seeding = seed_demo(services, settings, **{k: v for k, v in asked.items() if v is not None})
    finally:
        services.close()
    print("\n".join(seeding.lines()), flush=True)
    return 0 if seeding.ok else 1


def add_demo_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="the demo shop served in demo mode (setting `demo`)",
        description="The demo shop at /demo/ and its data.",
    )
    actions = demo.add_subparsers(dest="action", required=True, metavar="ACTION")
    seed = actions.add_parser(
        "seed",
        help="simulate the demo shop's history once, then run the jobs (safe to run again)",
        description="On a store where it was never done: simulate the demo site's visitors "
        "over the last days and run every job once, so the dashboards have data. Does "
        "nothing once it succeeded, or when demo mode is off.",
    )
    seed.add_argument("--visitors", type=int, metavar="N", help="default 2000")
    seed.add_argument("--days", type=int, metavar="N", help="default 30")
    seed.add_argument("--seed", type=int, metavar="N", help="random seed, default 1")
    seed.set_defaults(handler=_seed)
