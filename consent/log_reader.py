"""Read side of the transparency log: receipts with proofs, checkpoints, consistency.

Every proof is built from the stored node hashes, so its cost does not grow with the log.
An inclusion proof is relative to the newest checkpoint that a quorum of witnesses
cosigned, when that checkpoint covers the leaf, else to the latest signed checkpoint (or
one the caller names); every checkpoint is served with the cosignatures it has.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from consent.cosigned import CosignedCheckpoints
from consent.database import Database
from consent.log_keys import LogVerifier
from consent.receipts import inclusion_bundle, pending_bundle, receipt_document
from consent.transparency_log import TransparencyLog, as_bytes

__all__ = ["LATEST_SECONDS", "LogReader", "ProofUnavailable"]

# Proofs are relative to a checkpoint at most this old: any signed checkpoint is valid,
# and this saves a query per proof.
LATEST_SECONDS = 1.0


class ProofUnavailable(LookupError):
    """The asked-for leaf or tree size is not (yet) covered by a signed checkpoint."""


class LogReader:
    def __init__(
        self, database: Database, verifier: LogVerifier, cosigned: CosignedCheckpoints | None = None
    ) -> None:
        self._db = database
        self._log = TransparencyLog(database)
        self.verifier = verifier
        self.cosigned = cosigned or CosignedCheckpoints(database, verifier, [], 1)
        self._latest: tuple[str, int | None, float] | None = None

    def checkpoint(self) -> str | None:
        """The latest signed checkpoint note with its cosignatures (at most
        ``LATEST_SECONDS`` old)."""
        return self._latest_note()

    def receipt(self, receipt_id: str) -> dict[str, Any] | None:
        """The receipt of a recorded decision, with its inclusion proof once integrated."""
        leaf = self._log.leaf_by_receipt(receipt_id)
        if leaf is not None:
            try:
                return receipt_document(leaf.entry, leaf.leaf_hash, self.inclusion(leaf.index))
            except ProofUnavailable:  # integrated, but not yet under a signed checkpoint
                return receipt_document(leaf.entry, leaf.leaf_hash, pending_bundle(self.verifier))
        rows = self._db.rows(
            "SELECT entry, leaf_hash FROM consent_records WHERE receipt_id = {id:String} LIMIT 1",
            {"id": receipt_id},
        )
        if not rows:
            return None
        return receipt_document(
            as_bytes(rows[0][0]), as_bytes(rows[0][1]), pending_bundle(self.verifier)
        )

    def erasure_receipt(self, request_receipt_id: str) -> dict[str, Any] | None:
        """The receipt of the erasure carried out for a withdrawal or delete request."""
        rows = self._db.rows(
            "SELECT receipt_id FROM consent_records WHERE request_receipt_id = {id:String} "
            "AND kind = 'erasure' LIMIT 1",
            {"id": request_receipt_id},
        )
        return self.receipt(str(rows[0][0])) if rows else None

    def inclusion_by_receipt(self, receipt_id: str) -> dict[str, Any]:
        leaf = self._log.leaf_by_receipt(receipt_id)
        if leaf is None:
            raise ProofUnavailable(f"receipt {receipt_id} is not in the log yet")
        return self.inclusion(leaf.index)

    def inclusion(self, index: int, tree_size: int | None = None) -> dict[str, Any]:
        if tree_size is None:
            witnessed = self._witnessed_size()
            if witnessed is not None and index < witnessed:
                tree_size = witnessed
        note, size = self._signed(tree_size)
        if not 0 <= index < size:
            raise ProofUnavailable(
                f"leaf {index} is not covered by the checkpoint of {size} entries yet"
            )
        leaf, proof = self._log.leaf_and_inclusion(index, size)
        bundle = inclusion_bundle(self.verifier, index, size, proof, note)
        bundle["leaf_hash"] = base64.b64encode(leaf).decode()
        return bundle

    def consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        """PROOF(old, new) for any sizes the latest checkpoint covers, with their notes."""
        _, signed_size = self._signed(None)
        if not 0 <= old_size <= new_size <= signed_size:
            raise ProofUnavailable(
                f"sizes must satisfy 0 <= from <= to <= {signed_size} (the latest checkpoint)"
            )
        proof = self._log.consistency(old_size, new_size)
        return {
            "origin": self.verifier.origin,
            "from": old_size,
            "to": new_size,
            "proof": [base64.b64encode(h).decode() for h in proof],
            "from_checkpoint": self._log.checkpoint_note(old_size),
            "to_checkpoint": self._log.checkpoint_note(new_size),
        }

    def forget_latest(self) -> None:
        """A new checkpoint was signed in this process: use it from now on."""
        self._latest = None

    def _latest_note(self) -> str | None:
        return self._latest_and_witnessed()[0]

    def _witnessed_size(self) -> int | None:
        return self._latest_and_witnessed()[1]

    def _latest_and_witnessed(self) -> tuple[str | None, int | None]:
        """The latest checkpoint with its cosignatures, and the size of the newest one a
        quorum of witnesses cosigned; re-read at most every ``LATEST_SECONDS``."""
        now = time.monotonic()
        cached = self._latest
        if cached is not None and cached[2] > now:
            return cached[0], cached[1]
        note = self._log.latest_checkpoint_note()
        if note is None:
            return None, None
        note = self.cosigned.with_cosignatures(note)
        witnessed = self.cosigned.newest_witnessed_size()
        self._latest = (note, witnessed, now + LATEST_SECONDS)
        return note, witnessed

    def _signed(self, tree_size: int | None) -> tuple[str, int]:
        if tree_size is None:
            note = self._latest_note()
        else:
            stored = self._log.checkpoint_note(tree_size)
            note = self.cosigned.with_cosignatures(stored) if stored is not None else None
        if note is None:
            what = "any tree size" if tree_size is None else f"tree size {tree_size}"
            raise ProofUnavailable(f"no checkpoint has been signed for {what}")
        return note, self.verifier.open(note).tree_size
