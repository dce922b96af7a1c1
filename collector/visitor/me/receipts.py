"""A visitor's consent receipts, each checked against the latest signed checkpoint.

For each of the visitor's consent records (newest first, at most ``RECEIPTS_LIMIT``) the
receipt as ``GET /api/consent/receipts/{id}`` serves it, and its verification status:
``verified`` (leaf hash, signed checkpoint and inclusion proof all check out with the
log's public key, by ``consent.receipts.verify_receipt``), ``pending`` (not yet under a
signed checkpoint) or ``failed`` with what failed. The /me page checks the proof again
in the visitor's browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consent.errors import ReceiptError
from consent.log_reader import LogReader
from consent.receipts import verify_receipt

__all__ = ["RECEIPTS_LIMIT", "receipt_statuses"]

RECEIPTS_LIMIT = 50


def _verification(receipt: dict[str, Any], reader: LogReader) -> dict[str, Any]:
    if receipt["log"].get("status") != "included":
        return {
            "status": "pending",
            "detail": "recorded; the log adds it under its next signed checkpoint",
        }
    try:
        verified = verify_receipt(receipt, reader.verifier)
    except ReceiptError as exc:
        return {"status": "failed", "detail": str(exc)}
    return {
        "status": "verified",
        "detail": f"entry {verified.log_index} of the log, proven against the signed "
        f"checkpoint of {verified.tree_size} {'entry' if verified.tree_size == 1 else 'entries'}",
        "log_index": verified.log_index,
        "tree_size": verified.tree_size,
        "checkpoint_time": verified.checkpoint_time,
    }


def receipt_statuses(reader: LogReader, receipt_ids: Sequence[str]) -> list[dict[str, Any]]:
    """``{"receipt": <document>, "verification": {...}}`` for each id the log knows."""
    found = []
    for receipt_id in receipt_ids[:RECEIPTS_LIMIT]:
        receipt = reader.receipt(receipt_id)
        if receipt is not None:
            found.append({"receipt": receipt, "verification": _verification(receipt, reader)})
    return found
