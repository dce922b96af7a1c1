"""The log's side of witnessing: taking cosignatures in, and serving checkpoints with them.

A witness hands in the log's checkpoint with its cosignature line appended. It is kept
only if the checkpoint is one this log signed and still holds (same size, same root),
and the line verifies with a witness key from the settings (``[transparency]
witnesses``); lines of other keys are ignored. Stored lines are appended to the
checkpoint wherever it is served, so a receipt carries its witnesses with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from consent.checkpoint import Checkpoint
from consent.cosignature import WitnessKey, cosigned_by, with_cosignatures
from consent.database import Database
from consent.errors import CheckpointError, ConsentError
from consent.log_keys import LogVerifier
from consent.signed_note import split_note
from consent.transparency_log import as_bytes

__all__ = ["CosignatureRejected", "CosignedCheckpoints", "StoredCosignature"]


class CosignatureRejected(ConsentError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class StoredCosignature:
    tree_size: int
    root_hash: bytes
    witness: str
    line: str


class CosignedCheckpoints:
    def __init__(
        self, database: Database, verifier: LogVerifier, witnesses: Sequence[str], quorum: int
    ) -> None:
        self._db = database
        self._verifier = verifier
        self.witnesses = [WitnessKey(vkey) for vkey in witnesses]
        self.quorum = quorum

    def accept(self, note: str) -> list[str]:
        """Store the cosignatures of known witnesses on ``note``; their names."""
        try:
            checkpoint = self._verifier.open(note)
            found = cosigned_by(note, self.witnesses)
        except CheckpointError as exc:
            raise CosignatureRejected(400, str(exc)) from None
        if not found:
            raise CosignatureRejected(403, "no cosignature by a witness this log accepts")
        held = self._db.rows(
            "SELECT count() FROM checkpoints WHERE tree_size = {size:UInt64} "
            "AND hex(root_hash) = {root:String}",
            {"size": checkpoint.tree_size, "root": checkpoint.root_hash.hex().upper()},
        )
        if not held[0][0]:
            raise CosignatureRejected(
                409, f"this log signed no checkpoint of {checkpoint.tree_size} with that root"
            )
        _, signatures = split_note(note)
        lines = {s.name: s.line for s in signatures if s.name in found}
        self._db.insert(
            "checkpoint_cosignatures",
            [
                (checkpoint.tree_size, checkpoint.root_hash, name, _when(found[name]), lines[name])
                for name in found
            ],
            ("tree_size", "root_hash", "witness", "cosigned_at", "line"),
        )
        return sorted(found)

    def lines(self, checkpoint: Checkpoint) -> list[str]:
        rows = self._db.rows(
            "SELECT argMax(line, cosigned_at) FROM checkpoint_cosignatures "
            "WHERE tree_size = {size:UInt64} AND hex(root_hash) = {root:String} "
            "GROUP BY witness ORDER BY witness",
            {"size": checkpoint.tree_size, "root": checkpoint.root_hash.hex().upper()},
        )
        return [str(row[0]) for row in rows]

    def with_cosignatures(self, note: str) -> str:
        """``note`` with every stored cosignature of its checkpoint appended."""
        return with_cosignatures(note, self.lines(self._verifier.open(note)))

    def newest_witnessed_size(self) -> int | None:
        """The size of the newest checkpoint that a quorum of the witnesses cosigned."""
        if not self.witnesses:
            return None
        names = [w.name for w in self.witnesses]
        rows = self._db.rows(
            "SELECT c.tree_size FROM checkpoint_cosignatures AS c "
            "INNER JOIN checkpoints AS k ON k.tree_size = c.tree_size AND k.root_hash = c.root_hash "
            "WHERE c.witness IN {names:Array(String)} GROUP BY c.tree_size "
            "HAVING uniqExact(c.witness) >= {quorum:UInt32} ORDER BY c.tree_size DESC LIMIT 1",
            {"names": names, "quorum": self.quorum},
        )
        return int(rows[0][0]) if rows else None

    def stored(self) -> list[StoredCosignature]:
        """Every stored cosignature, for the audit."""
        rows = self._db.rows(
            "SELECT tree_size, root_hash, witness, line FROM checkpoint_cosignatures FINAL "
            "ORDER BY tree_size, witness"
        )
        return [
            StoredCosignature(int(size), as_bytes(root), str(witness), str(line))
            for size, root, witness, line in rows
        ]


def _when(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
