"""The ``clearsignal`` command line.

    clearsignal [--config FILE] serve | migrate | jobs | audit | simulate | demo | admin | keys | import

Each subcommand is a small function here that calls into the packages; settings are
loaded once, and a settings error is printed as one paragraph with exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from clearsignal.cli.admin import add_admin_parser
from clearsignal.cli.audit import add_audit_parser
from clearsignal.cli.demo import add_demo_parser
from clearsignal.cli.imports import add_import_parser
from clearsignal.cli.jobs import add_jobs_parser
from clearsignal.cli.keys import add_keys_parser
from clearsignal.cli.simulate import add_simulate_parser
from clearsignal.cli.witness import add_witness_parser
from clearsignal.settings import Settings, SettingsError, load_settings

__all__ = ["main"]

Handler = Callable[[Settings, argparse.Namespace], int]
log = logging.getLogger("clearsignal")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from clearsignal.process_memory import decline_data_frame_libraries

    decline_data_frame_libraries()  # before the store's clients are imported
    from collector.admin.demo_accounts import announce_demo_accounts
    from collector.app import create_app

    announce_demo_accounts(settings)
    app = create_app(settings)
    # The spool's fsync thread needs the GIL for a moment after each fdatasync to answer
    # the requests waiting on it; by default a busy event loop keeps it for 5 ms, and
    # the requests waiting on that fsync wait with it.
    sys.setswitchinterval(0.001)
    # access_log=False: uvicorn's access log would write every visitor's IP address.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        server_header=False,
        log_level="info",
        # The client address (rate limits, sign-in lockout) is X-Forwarded-For's only
        # from these proxies; from any other peer it is the peer's own.
        proxy_headers=True,
        forwarded_allow_ips=settings.server.forwarded_allow_ips,
    )
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from aggregator.store.client import open_configured_store
    from aggregator.store.migrations import migrate

    store = open_configured_store(settings)
    try:
        print(migrate(store))
    finally:
        store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clearsignal",
        description=(
            "ClearSignal: privacy-first behaviour analytics. Settings come from "
            "CLEARSIGNAL_* environment variables and an optional clearsignal.toml "
            "(see docs/configuration.md)."
        ),
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="settings file (default: ./clearsignal.toml if present, or $CLEARSIGNAL_CONFIG)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve the collector, the web pages and (in embedded mode) the scheduler",
        description="Serve ClearSignal over HTTP. Uses one process: the embedded engine "
        "allows one process per data directory.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser(
        "migrate",
        help="create or upgrade the ClickHouse schema (safe to run again)",
        description="Apply every migration not yet recorded in schema_migrations.",
    )
    migrate.set_defaults(handler=_migrate)
    add_jobs_parser(commands)
    add_audit_parser(commands)
    add_simulate_parser(commands)
    add_admin_parser(commands)
    add_witness_parser(commands)
    add_demo_parser(commands)
    add_keys_parser(commands)
    add_import_parser(commands)
    return parser


def configure_logging() -> None:
    """The server log is for operators: what changed or failed, at INFO and above. The
    scheduler's own lines (two for every run of every job) are kept for DEBUG; each run's
    detail is in ``job_runs`` (``clearsignal jobs list``)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"clearsignal: {exc}", file=sys.stderr)
        return 2
    handler: Handler = args.handler
    return handler(settings, args)


if __name__ == "__main__":
    sys.exit(main())
