"""Consent receipts: what a visitor keeps, and how anyone verifies one offline.

A receipt is a JSON document modelled on ISO/IEC 27560 / Kantara consent receipts. Its
readable fields (receipt id, subject pseudonym, controller, site, purposes with choice
and lawful basis, notice URI, version, language and SHA-256, method, timestamps, expiry)
are a copy of the log entry, which it also carries verbatim as ``entry``: the exact
bytes whose RFC 6962 leaf hash is in the transparency log. Once the sequencer has
integrated it, ``log`` holds the inclusion proof and the signed checkpoint it is
relative to, so with the log's public key the receipt verifies with nothing else::

    leaf_hash(entry) == leaf_hash, readable fields == entry,
    checkpoint signed by the log's key, inclusion proof from leaf to checkpoint root.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from consent.errors import CheckpointError, ReceiptError
from consent.log_keys import LogVerifier
from consent.merkle import leaf_hash, verify_inclusion

__all__ = [
    "RECEIPT_FORMAT",
    "VerifiedReceipt",
    "inclusion_bundle",
    "pending_bundle",
    "receipt_document",
    "verify_receipt",
]

RECEIPT_FORMAT = "clearsignal-consent-receipt/1"
_ENVELOPE = ("receipt_format", "entry", "leaf_hash", "log")


@dataclass(frozen=True)
class VerifiedReceipt:
    receipt_id: str
    kind: str
    site: str
    log_index: int
    tree_size: int
    checkpoint_time: int


def receipt_document(entry: bytes, leaf: bytes, log: Mapping[str, Any]) -> dict[str, Any]:
    fields = orjson.loads(entry)
    return {
        "receipt_format": RECEIPT_FORMAT,
        **fields,
        "entry": entry.decode(),
        "leaf_hash": leaf.hex(),
        "log": dict(log),
    }


def pending_bundle(verifier: LogVerifier) -> dict[str, Any]:
    return {"origin": verifier.origin, "verifier_key": verifier.vkey, "status": "pending"}


def inclusion_bundle(
    verifier: LogVerifier, log_index: int, tree_size: int, proof: Sequence[bytes], note: str
) -> dict[str, Any]:
    return {
        "origin": verifier.origin,
        "verifier_key": verifier.vkey,
        "status": "included",
        "log_index": log_index,
        "tree_size": tree_size,
        "inclusion_proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": note,
    }


def verify_receipt(receipt: Mapping[str, Any], verifier: LogVerifier) -> VerifiedReceipt:
    """Check a receipt against the log's public key alone; ``ReceiptError`` says what failed."""
    if receipt.get("receipt_format") != RECEIPT_FORMAT:
        raise ReceiptError(f"not a {RECEIPT_FORMAT} document (receipt_format is missing or other)")
    entry_text = receipt.get("entry")
    if not isinstance(entry_text, str):
        raise ReceiptError("the receipt carries no log entry ('entry' must be a string)")
    entry = entry_text.encode()
    leaf = leaf_hash(entry)
    if not hmac.compare_digest(leaf.hex(), str(receipt.get("leaf_hash", ""))):
        raise ReceiptError("leaf_hash is not the SHA-256 leaf hash of the entry")
    try:
        fields = orjson.loads(entry)
    except orjson.JSONDecodeError as exc:
        raise ReceiptError(f"the entry is not JSON: {exc}") from None
    readable = {k: v for k, v in receipt.items() if k not in _ENVELOPE}
    if readable != fields:
        changed = sorted(k for k in {*readable, *fields} if readable.get(k) != fields.get(k))
        raise ReceiptError(f"the readable fields differ from the logged entry: {changed}")
    log = receipt.get("log")
    if not isinstance(log, Mapping) or log.get("status") != "included":
        raise ReceiptError(
            "the receipt has no inclusion proof yet; fetch the proven receipt from "
            "/api/consent/receipts/<receipt_id> once the log has integrated it"
        )
    if log.get("verifier_key") not in (None, verifier.vkey):
        raise ReceiptError("the receipt's checkpoint names a different log key than the one given")
    try:
        checkpoint = verifier.open(str(log.get("checkpoint", "")))
    except CheckpointError as exc:
        raise ReceiptError(f"the checkpoint does not verify: {exc}") from None
    index, size = log.get("log_index"), log.get("tree_size")
    if not isinstance(index, int) or size != checkpoint.tree_size:
        raise ReceiptError("log_index is missing or tree_size is not the checkpoint's")
    proof = _hashes(log.get("inclusion_proof"))
    if not verify_inclusion(leaf, index, checkpoint.tree_size, proof, checkpoint.root_hash):
        raise ReceiptError(
            f"the inclusion proof does not lead from leaf {index} to the root of the "
            f"signed checkpoint of {checkpoint.tree_size} entries"
        )
    return VerifiedReceipt(
        str(fields.get("receipt_id")),
        str(fields.get("kind")),
        str(fields.get("site")),
        index,
        checkpoint.tree_size,
        checkpoint.timestamp,
    )


def _hashes(value: object) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReceiptError("inclusion_proof must be a list of base64 hashes")
    try:
        hashes = [base64.b64decode(v, validate=True) for v in value]
    except (binascii.Error, ValueError):
        raise ReceiptError("inclusion_proof holds something that is not base64") from None
    if [base64.b64encode(h).decode() for h in hashes] != value:
        raise ReceiptError("inclusion_proof holds a hash that is not in canonical base64")
    return hashes
