"""What an auditor brings from outside the store, and how ``verify_log`` weighs it.

The store can be rebuilt by whoever holds the log's key. Evidence kept elsewhere cannot:

* held checkpoints: signed notes kept by visitors (in their receipts), by witnesses (in
  their state) or by anyone who fetched ``/api/transparency/checkpoint``. The leaves in
  the store must hash to each held root at each held size, or the log was rewritten
  after the checkpoint was published; a held size beyond the store means leaves were
  removed.
* witnesses' keys and a quorum: every cosignature by those witnesses that the store (or a
  held note) carries must verify on a checkpoint the store holds, at least ``quorum`` of
  them must have cosigned one checkpoint, and no entry may have waited longer than
  ``witness_lag`` without such a checkpoint covering it. A witness cosigns only what
  extends what it cosigned before, so a rewritten log either keeps cosignatures that no
  longer match, or loses them and falls behind its witnesses.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from consent.checkpoint import Checkpoint
from consent.cosignature import WitnessKey, cosigned_by, with_cosignatures
from consent.cosigned import CosignedCheckpoints
from consent.database import Database
from consent.errors import CheckpointError
from consent.log_keys import LogVerifier
from consent.transparency_log import TransparencyLog

__all__ = ["AuditEvidence", "AuditFailed", "HeldCheckpoints", "check_witnesses"]


class AuditFailed(Exception):
    def __init__(self, index: int | None, problem: str) -> None:
        super().__init__(problem)
        self.index, self.problem = index, problem


@dataclass(frozen=True)
class AuditEvidence:
    held: Sequence[str] = ()  # signed checkpoint notes, with or without cosignatures
    witnesses: Sequence[str] = ()  # witness verifier keys (type 0x04)
    quorum: int = 1
    # Witnesses that run every few minutes cosign an entry well within this.
    witness_lag: timedelta = timedelta(hours=1)


@dataclass
class HeldCheckpoints:
    checkpoints: list[Checkpoint]
    checked: int = 0

    @classmethod
    def open(cls, evidence: AuditEvidence, verifier: LogVerifier) -> HeldCheckpoints:
        found = []
        for number, note in enumerate(evidence.held, start=1):
            try:
                found.append(verifier.open(note))
            except CheckpointError as exc:
                raise AuditFailed(
                    None, f"held checkpoint #{number} is not signed by the pinned log key: {exc}"
                ) from None
        return cls(sorted(found, key=lambda c: c.tree_size))

    def check_root(self, size: int, root: bytes) -> None:
        """The store's root after ``size`` leaves against every held checkpoint of that size."""
        for held in self.checkpoints:
            if held.tree_size != size:
                continue
            if not hmac.compare_digest(held.root_hash, root):
                raise AuditFailed(
                    size - 1,
                    f"the store's first {size} entries do not have the root of the held "
                    f"checkpoint of {size} entries signed {_when(held.timestamp)}: the log "
                    "was rewritten after that checkpoint was published",
                )
            self.checked += 1

    def check_beyond(self, tree_size: int) -> None:
        self.checked += sum(1 for held in self.checkpoints if held.tree_size == 0)
        largest = max((c for c in self.checkpoints), key=lambda c: c.tree_size, default=None)
        if largest is not None and largest.tree_size > tree_size:
            raise AuditFailed(
                tree_size,
                f"a checkpoint of {largest.tree_size} entries was signed "
                f"{_when(largest.timestamp)} and is held, but the store has {tree_size}: "
                "entries were removed after it was published",
            )

    def notes(self) -> list[str]:
        if not self.checkpoints:
            return []
        return [f"consistent with {self.checked} held checkpoints (up to "
                f"{self.checkpoints[-1].tree_size} entries)"]  # fmt: skip


def check_witnesses(
    database: Database, verifier: LogVerifier, evidence: AuditEvidence, tree_size: int,
    now: datetime,
) -> list[str]:  # fmt: skip
    if not evidence.witnesses:
        return []
    try:
        witnesses = [WitnessKey(vkey) for vkey in evidence.witnesses]
        for witness in witnesses:
            _ = witness.public_key
    except CheckpointError as exc:
        raise AuditFailed(None, f"a witness key given is not one: {exc}") from None
    cosigners = _cosigners(database, verifier, evidence, witnesses)
    witnessed = [size for size, names in cosigners.items() if len(names) >= evidence.quorum]
    of = f"{evidence.quorum} of the {len(witnesses)} given witnesses"
    if not witnessed:
        if tree_size == 0:
            return ["the log is empty; no witness has cosigned anything yet"]
        raise AuditFailed(None, f"no checkpoint is cosigned by {of}: nothing here is witnessed")
    newest = max(witnessed)
    names = ", ".join(sorted(cosigners[newest]))
    notes = [f"the checkpoint of {newest} entries is cosigned by {of} ({names})"]
    if tree_size > newest:
        waiting = database.rows(
            "SELECT min(integrated_at) FROM consent_log WHERE log_index >= {newest:UInt64}",
            {"newest": newest},
        )[0][0]
        if waiting < now - evidence.witness_lag:
            raise AuditFailed(
                newest,
                f"entry {newest} was integrated {waiting:%Y-%m-%d %H:%M:%S} UTC and no "
                f"checkpoint cosigned by {of} covers it yet: the witnesses refused what "
                "followed, or their cosignatures were removed",
            )
        notes.append(f"{tree_size - newest} newest entries are not witnessed yet")
    return notes


def _cosigners(
    database: Database, verifier: LogVerifier, evidence: AuditEvidence,
    witnesses: list[WitnessKey],
) -> dict[int, set[str]]:  # fmt: skip
    """``{tree size: witnesses whose cosignature verifies on the store's checkpoint}``."""
    stored_notes: dict[tuple[int, bytes], str] = {}
    for note in TransparencyLog(database).checkpoint_notes():
        checkpoint = verifier.open(note)
        stored_notes.setdefault((checkpoint.tree_size, checkpoint.root_hash), note)
    found: dict[int, set[str]] = {}

    def held_in_store(size: int, root: bytes, name: str) -> str:
        note = stored_notes.get((size, root))
        if note is None:
            raise AuditFailed(
                None,
                f"witness {name} cosigned a checkpoint of {size} entries that the store does "
                "not hold (another root, or none): the log was rewritten after it was witnessed",
            )
        return note

    names = {w.name for w in witnesses}
    for stored in CosignedCheckpoints(database, verifier, [], 1).stored():
        if stored.witness not in names:
            continue
        note = held_in_store(stored.tree_size, stored.root_hash, stored.witness)
        try:
            verified = cosigned_by(with_cosignatures(note, [stored.line]), witnesses)
        except CheckpointError as exc:
            raise AuditFailed(None, f"a stored cosignature does not verify: {exc}") from None
        if stored.witness in verified:
            found.setdefault(stored.tree_size, set()).add(stored.witness)
    for note in evidence.held:
        checkpoint = verifier.open(note)
        try:
            verified = cosigned_by(note, witnesses)
        except CheckpointError as exc:
            raise AuditFailed(
                None, f"a held checkpoint carries a forged cosignature: {exc}"
            ) from None
        for name in verified:
            held_in_store(checkpoint.tree_size, checkpoint.root_hash, name)
            found.setdefault(checkpoint.tree_size, set()).add(name)
    return found


def _when(timestamp: int) -> str:
    return f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d %H:%M:%S} UTC"
