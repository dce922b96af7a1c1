"""``clearsignal audit verify | prove | export | ropa``: the privacy officer's tools."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from clearsignal.cli.sites import unknown_sites
from clearsignal.settings import Settings

__all__ = ["add_audit_parser"]


def _given(value: str) -> str:
    """A key or note given on the command line: the text itself, or a file holding it."""
    path = Path(value)
    return (path.read_text() if path.is_file() else value).strip()


def _verifier(args: argparse.Namespace) -> Any:
    from consent.log_keys import LogVerifier

    return LogVerifier(_given(args.public_key))


def _held_note(path: str) -> str:
    """A checkpoint note from a file: the note itself, or a receipt that carries one."""
    text = Path(path).read_text()
    if text.lstrip().startswith("{"):
        checkpoint = orjson.loads(text).get("log", {}).get("checkpoint")
        if not isinstance(checkpoint, str):
            raise ValueError(f"{path} is a receipt without a checkpoint (not proven yet)")
        return checkpoint
    return text


def _open_store(settings: Settings) -> Any:
    from aggregator.store.client import open_configured_store

    return open_configured_store(settings, create=False)


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    from consent.audit import AuditEvidence, verify_log

    try:
        evidence = AuditEvidence(
            held=[_held_note(path) for path in args.checkpoint],
            witnesses=[_given(vkey) for vkey in args.witness],
            quorum=args.quorum,
            witness_lag=timedelta(minutes=args.witness_lag),
        )
    except (OSError, ValueError) as exc:
        print(f"clearsignal audit verify: {exc}", file=sys.stderr)
        return 2
    store = _open_store(settings)
    try:
        report = verify_log(store, _verifier(args), evidence)
    finally:
        store.close()
    print(report.summary())
    return 0 if report.ok else 1


def _prove(settings: Settings, args: argparse.Namespace) -> int:
    from consent.errors import ConsentError
    from consent.receipts import verify_receipt

    try:
        receipt = orjson.loads(Path(args.receipt).read_bytes())
        verified = verify_receipt(receipt, _verifier(args))
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

    if unknown_sites(settings, [args.site]):
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
        "the log's verifier key (C2SP vkey string or a file holding it), as published by "
        "the site and kept by you; never taken from the store or the signing key under audit"
    )

    verify = actions.add_parser(
        "verify",
        help="recompute the log from the store and check it against what others hold",
        description="Recompute every leaf and node hash from the stored log, check every "
        "checkpoint's signature and root and the consistency between consecutive ones, "
        "then check the store against checkpoints held outside it and witnesses' "
        "cosignatures, and that every consent record is in the log. Exit 0 with a "
        "summary, or 1 naming the first problem.",
    )
    verify.add_argument("--public-key", metavar="VKEY", required=True, help=key_help)
    verify.add_argument(
        "--checkpoint", metavar="FILE", action="append", default=[],
        help="a signed checkpoint held outside the store (a note, a receipt JSON, or a "
        "witness's logs/*.checkpoint); repeat for more",
    )  # fmt: skip
    verify.add_argument(
        "--witness", metavar="VKEY", action="append", default=[],
        help="a witness's verifier key (or a file holding it); repeat for more",
    )  # fmt: skip
    verify.add_argument(
        "--quorum", type=int, default=1, metavar="N",
        help="how many of the given witnesses must have cosigned a checkpoint (default 1)",
    )  # fmt: skip
    verify.add_argument(
        "--witness-lag", type=float, default=60.0, metavar="MINUTES",
        help="the longest an entry may wait for a checkpoint the quorum cosigned (default 60)",
    )  # fmt: skip
    verify.set_defaults(handler=_verify)

    prove = actions.add_parser(
        "prove",
        help="verify a consent receipt offline",
        description="Check a receipt (JSON, as served by /api/consent/receipts/<id>) with the "
        "log's public key only: entry hash, signed checkpoint and inclusion proof.",
    )
    prove.add_argument("receipt", metavar="RECEIPT_JSON")
    prove.add_argument("--public-key", metavar="VKEY", required=True, help=key_help)
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
