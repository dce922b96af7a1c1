"""``clearsignal audit verify | prove | export | ropa``: the privacy officer's tools."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from clearsignal.settings import Settings

__all__ = ["add_audit_parser"]


def _verifier(settings: Settings, args: argparse.Namespace) -> Any:
    from consent.log_keys import LogKeys, LogVerifier

    given: str | None = args.public_key
    if given is None:
        return LogKeys.load(settings.log_origin, settings.log_key_path).verifier
    path = Path(given)
    return LogVerifier((path.read_text() if path.is_file() else given).strip())


def _open_store(settings: Settings) -> Any:
    from aggregator.store.client import open_store

    return open_store(settings.dsn, settings.store.database, settings.store.cluster, create=False)


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from consent.audit import verify_log

    store = _open_store(settings)
    try:
        report = verify_log(store, _verifier(settings, args))
    finally:
        store.close()
    print(report.summary())
    return 0 if report.ok else 1


def _prove(settings: Settings, args: argparse.Namespace) -> int:
    from consent.errors import ConsentError
    from consent.receipts import verify_receipt

    try:
        receipt = orjson.loads(Path(args.receipt).read_bytes())
        verified = verify_receipt(receipt, _verifier(settings, args))
    except (OSError, orjson.JSONDecodeError, ConsentError) as exc:
        print(f"receipt does NOT verify: {exc}")
        return 1
    when = datetime.fromtimestamp(verified.checkpoint_time, UTC)
    print(
        f"receipt {verified.receipt_id} verifies: {verified.kind} on site {verified.site} is "
        f"entry {verified.log_index} of the log, included in the checkpoint of "
        f"{verified.tree_size} entries signed {when:%Y-%m-%d %H:%M:%S} UTC"
    )
    return 0


def _when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from consent.export import export_records

    if settings.site(args.site) is None:
        print(f"clearsignal: unknown site {args.site!r}", file=sys.stderr)
        return 2
    store = _open_store(settings)
    try:
        out = open(args.output, "w", newline="") if args.output else sys.stdout  # noqa: SIM115
        try:
            count = export_records(store, args.site, out, args.format, args.since, args.until)
        finally:
            if args.output:
                out.close()
    finally:
        store.close()
    print(f"exported {count} consent records of site {args.site}", file=sys.stderr)
    return 0


def _ropa(settings: Settings, args: argparse.Namespace) -> int:
    from consent.ropa import record_of_processing

    text = record_of_processing(settings)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def add_audit_parser(commands: Any) -> None:
    audit = commands.add_parser(
        "audit",
        help="verify the consent log, prove receipts, export records, record of processing",
        description="Tools for the privacy officer and for anyone auditing the consent log.",
    )
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    key_help = (
        "the log's verifier key (C2SP vkey string or a file holding it), as served at "
        "/api/transparency/public-key; default: derived from this deployment's signing key"
    )

    verify = actions.add_parser(
        "verify",
        help="recompute the log from the store and check every checkpoint",
        description="Recompute every leaf and node hash from the stored log, check every "
        "checkpoint's signature and root and the consistency between consecutive ones. "
        "Exit 0 with a summary, or 1 naming the first bad index.",
    )
    verify.add_argument("--public-key", metavar="VKEY", help=key_help)
    verify.set_defaults(handler=_verify)

    prove = actions.add_parser(
        "prove",
        help="verify a consent receipt offline",
        description="Check a receipt (JSON, as served by /api/consent/receipts/<id>) with the "
        "log's public key only: entry hash, signed checkpoint and inclusion proof.",
    )
    prove.add_argument("receipt", metavar="RECEIPT_JSON")
    prove.add_argument("--public-key", metavar="VKEY", help=key_help)
    prove.set_defaults(handler=_prove)

    export = actions.add_parser(
        "export",
        help="export a site's consent records (csv or jsonl)",
        description="Every consent decision, withdrawal and erasure of a site in a time "
        "range, with its log index and exact entry.",
    )
    export.add_argument("--site", required=True)
    export.add_argument("--since", type=_when, help="ISO date or time (UTC unless given)")
    export.add_argument("--until", type=_when, help="ISO date or time, exclusive")
    export.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    export.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    export.set_defaults(handler=_export)

    ropa = actions.add_parser(
        "ropa",
        help="the record of processing (GDPR Art. 30) as Markdown",
        description="Generated from the settings: purposes, lawful bases, data categories, "
        "retention, recipients.",
    )
    ropa.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    ropa.set_defaults(handler=_ropa)
