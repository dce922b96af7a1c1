"""``clearsignal simulate``: realistic shop visitors with planted signals and their truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from clearsignal.cli.store import open_migrated_store
from clearsignal.settings import Settings

__all__ = ["add_simulate_parser"]

STORE_DAYS = 30
HTTP_DAYS = 2  # the collector keeps events up to 72 hours old


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from simulator.simulation import HttpTransport, SimulationError, simulate, simulate_http

    progress = sys.stderr.isatty()
    if args.api_key is not None and args.via != "http":
        print("clearsignal: --api-key is for --via http (--via store plays the site's "
              "systems without one)", file=sys.stderr)  # fmt: skip
        return 2
    api_key = sys.stdin.readline().strip() if args.api_key == "-" else args.api_key
    days = args.days or (HTTP_DAYS if args.via == "http" else STORE_DAYS)
    try:
        if args.via == "store":
            store = open_migrated_store(settings)
            if store is None:
                return 1
            try:
                summary = simulate(
                    store, settings, args.visitors, days, args.seed, site=args.site,
                    progress=progress,
                )  # fmt: skip
            finally:
                store.close()
        else:
            transport = HttpTransport(args.url)
            if api_key is not None and not transport.confidential:
                print(f"clearsignal: an API key goes only over HTTPS or to this machine, "
                      f"not to {args.url}", file=sys.stderr)  # fmt: skip
                return 2
            store = None if args.truth_file else open_migrated_store(settings)
            if store is None and not args.truth_file:
                return 1
            try:
                summary = simulate_http(
                    transport, settings, args.visitors, days, args.seed, site=args.site,
                    api_key=api_key, truth_store=store, truth_file=args.truth_file,
                    progress=progress,
                )  # fmt: skip
            finally:
                transport.close()
                if store is not None:
                    store.close()
    except SimulationError as exc:
        print(f"clearsignal: {exc}", file=sys.stderr)
        return 1
    print(summary)
    if args.via == "http" and args.api_key is None:
        print("The site's systems were not simulated: pass --api-key (see clearsignal keys).")
    if args.truth_file:
        print(f"Truth written to {args.truth_file} (JSON lines).")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_simulate_parser(commands: Any) -> None:
    simulate = commands.add_parser(
        "simulate",
        help="generate realistic shop visitors with planted signals and record the truth",
        description="Simulate shop visitors over the last DAYS days: browsing, pricing, FAQ, "
        "cart, checkout, contact, returns over days; about 70%% grant analytics consent, and "
        "of those about 5%% per signal rule get its behaviour and 5%% a look-alike just under "
        "its threshold. The truth goes to the simulation_truth table. The same seed gives "
        "the same visitors.",
    )
    simulate.add_argument("--site", default="demo", help="site id (default demo)")
    simulate.add_argument(
        "--visitors", type=_positive, default=1000, metavar="N", help="visitors (default 1000)"
    )
    simulate.add_argument(
        "--days",
        type=_positive,
        metavar="D",
        help=f"days ending now (default {STORE_DAYS}; {HTTP_DAYS} with --via http)",
    )
    simulate.add_argument("--seed", type=int, default=1, metavar="S", help="seed (default 1)")
    simulate.add_argument(
        "--via",
        choices=("store", "http"),
        default="store",
        help="store: through the ingest pipeline straight into the store (default; for large "
        "N); http: POST to a running server's /api/consent and /api/events (small N, at "
        "most 2 days), and with --api-key its /api/visitor/link and /api/server-events",
    )
    simulate.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="the server for --via http (default http://127.0.0.1:8000)",
    )
    simulate.add_argument(
        "--api-key",
        metavar="KEY",
        help="with --via http: a key of the site for every kind (clearsignal keys create), to "
        "play the site's systems too: link each customer to its visitor and send its orders, "
        "subscriptions and tickets as the site's backend would (the site needs a "
        "touchpoints.link_secret). '-' reads it from standard input (it then stays out of "
        "the process list). Sent only over HTTPS or to this machine. Without it only the "
        "browser is simulated.",
    )
    simulate.add_argument(
        "--truth-file",
        type=Path,
        metavar="FILE",
        help="with --via http: write the truth to FILE (JSON lines) instead of the store, "
        "e.g. when the server holds the embedded store",
    )
    simulate.set_defaults(handler=_simulate)
