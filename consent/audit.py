"""``clearsignal audit verify``: recompute the whole log from the store and check it.

Checks, in one pass over the leaves in index order:

* indices run 0, 1, 2, ... with no gap (a deleted row) and no repeat (an inserted one);
* each leaf hash is SHA-256(0x00 || entry) (an altered entry);
* each leaf hash equals the level-0 node the sequencer stored for that index and the
  decision's own copy in ``consent_records`` (an entry rewritten with its hash, or rows
  swapped: reordering), and every stored inner node equals the one recomputed from the
  leaves (the nodes are what visitors' inclusion proofs are made of);
* the root recomputed at every checkpoint's size equals the signed root, and every
  checkpoint's Ed25519 signature verifies with the pinned log key;
* consecutive checkpoints are consistent, by a proof built from the stored nodes and
  checked with the RFC 9162 verifier, as an outside auditor would.

All of that holds for a log the operator rebuilt and re-signed: the operator has the
key. What the operator cannot rebuild is what others kept (``AuditEvidence``):

* held checkpoints (from receipts, from a witness's state, from anyone): the store's
  leaves must have each held root at each held size (``consent.audit_evidence``);
* witnesses' cosignatures: every one stored must verify on a checkpoint the store still
  holds, and a quorum of the given witnesses must have cosigned a checkpoint.

Finally every consent record the consent gate reads must be a leaf of the log, once the
sequencer has had time to add it. The first problem found stops the audit and is
reported with the leaf index it concerns.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clearsignal.clock import utc_now
from consent.audit_evidence import AuditEvidence, AuditFailed, HeldCheckpoints, check_witnesses
from consent.checkpoint import Checkpoint
from consent.database import Database
from consent.errors import CheckpointError, LogIntegrityError
from consent.log_keys import LogVerifier
from consent.merkle import EMPTY_ROOT, frontier_append, frontier_root, leaf_hash
from consent.merkle import verify_consistency as _verify_consistency
from consent.transparency_log import TransparencyLog, as_bytes

__all__ = ["UNSEQUENCED_GRACE", "AuditEvidence", "AuditReport", "verify_log"]

_CHUNK_LEVEL = 17
_CHUNK = 1 << _CHUNK_LEVEL  # aligned chunks: every node up to this level lies in one
# A record this fresh may simply be waiting for the sequencer's next run.
UNSEQUENCED_GRACE = timedelta(minutes=10)


@dataclass
class AuditReport:
    tree_size: int = 0
    checkpoints: int = 0
    first_bad_index: int | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.ok:
            lines = [
                f"log verified: {self.tree_size} entries, {self.checkpoints} signed "
                "checkpoints, every signature, root and consistency proof checks out"
            ]
        else:
            where = "" if self.first_bad_index is None else f" at index {self.first_bad_index}"
            lines = [f"log verification FAILED{where}: {self.problem}"]
        return "\n".join([*lines, *self.notes])


def verify_log(
    database: Database,
    verifier: LogVerifier,
    evidence: AuditEvidence | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> AuditReport:
    report = AuditReport()
    evidence = evidence or AuditEvidence()
    try:
        held = HeldCheckpoints.open(evidence, verifier)
        _verify(database, verifier, report, held)
        held.check_beyond(report.tree_size)
        report.notes.extend(held.notes())
        now = clock()
        report.notes.extend(check_witnesses(database, verifier, evidence, report.tree_size, now))
        report.notes.extend(_check_sequenced(database, now))
    except AuditFailed as failed:
        report.first_bad_index, report.problem = failed.index, failed.problem
    return report


def _verify(
    database: Database, verifier: LogVerifier, report: AuditReport, held: HeldCheckpoints
) -> None:
    log = TransparencyLog(database)
    checkpoints = _checkpoints(log, verifier)
    report.checkpoints = len(checkpoints)
    due = iter(checkpoints)
    upcoming = next(due, None)
    previous: Checkpoint | None = None
    frontier: list[bytes] = []
    size = 0
    total = log.size()
    while upcoming is not None and upcoming.tree_size == 0:
        _check_root(upcoming, EMPTY_ROOT, None)
        previous, upcoming = upcoming, next(due, None)
    high_nodes = log.nodes_within(0, 1 << 63, min_level=_CHUNK_LEVEL + 1)
    for start in range(0, max(total, 1), _CHUNK):
        nodes = log.nodes_within(start, start + _CHUNK, max_level=_CHUNK_LEVEL) | high_nodes
        copies = _record_hashes(database, start, start + _CHUNK)
        for leaf in log.leaves(start, start + _CHUNK):
            if leaf.index != size:
                problem = "is stored twice" if leaf.index < size else "is missing"
                raise AuditFailed(min(leaf.index, size), f"leaf {min(leaf.index, size)} {problem}")
            computed = leaf_hash(leaf.entry)
            if not hmac.compare_digest(computed, leaf.leaf_hash):
                raise AuditFailed(size, "the entry does not hash to its stored leaf hash (altered)")
            if nodes.get((0, size)) != computed:
                raise AuditFailed(
                    size, "the leaf differs from the node hash sequenced at this index"
                )
            if copies.get(leaf.receipt_id) != computed:
                raise AuditFailed(size, "the leaf differs from the recorded decision it stands for")
            frontier, created = frontier_append(size, frontier, computed)
            for node in created[1:]:
                if nodes.get((node.level, node.index)) != node.hash:
                    raise AuditFailed(
                        size,
                        f"the stored node hash (level {node.level}, index {node.index}) is not "
                        "the one recomputed from the leaves",
                    )
            size += 1
            held.check_root(size, frontier_root(frontier))
            while upcoming is not None and upcoming.tree_size == size:
                _check_root(upcoming, frontier_root(frontier), size - 1)
                _check_consistency(log, previous, upcoming)
                previous, upcoming = upcoming, next(due, None)
    report.tree_size = size
    if upcoming is not None:
        raise AuditFailed(
            size, f"checkpoint {upcoming.tree_size} was signed but the log ends at {size} leaves"
        )
    signed = previous.tree_size if previous else 0
    if size > signed:
        report.notes.append(f"{size - signed} newest entries are not covered by a checkpoint yet")


def _checkpoints(log: TransparencyLog, verifier: LogVerifier) -> list[Checkpoint]:
    found: list[Checkpoint] = []
    for number, note in enumerate(log.checkpoint_notes()):
        try:
            found.append(verifier.open(note))
        except CheckpointError as exc:
            raise AuditFailed(None, f"checkpoint #{number + 1} does not verify: {exc}") from None
    return found


def _check_root(checkpoint: Checkpoint, computed: bytes, last_index: int | None) -> None:
    if not hmac.compare_digest(checkpoint.root_hash, computed):
        raise AuditFailed(
            last_index,
            f"the root of the first {checkpoint.tree_size} leaves is not the signed root: "
            "a leaf at or before this index was altered, removed or reordered",
        )


def _check_consistency(log: TransparencyLog, old: Checkpoint | None, new: Checkpoint) -> None:
    if old is None:
        return
    try:
        proof = log.consistency(old.tree_size, new.tree_size)
    except LogIntegrityError as exc:
        raise AuditFailed(None, f"cannot build the consistency proof: {exc}") from None
    if not _verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof):
        raise AuditFailed(
            None,
            f"checkpoints {old.tree_size} and {new.tree_size} are not consistent "
            "(stored node hashes were altered)",
        )


def _record_hashes(database: Database, start: int, end: int) -> dict[str, bytes]:
    rows = database.rows(
        "SELECT r.receipt_id, r.leaf_hash FROM consent_records AS r "
        "WHERE r.receipt_id IN (SELECT receipt_id FROM consent_log "
        "  WHERE log_index >= {start:UInt64} AND log_index < {end:UInt64})",
        {"start": start, "end": end},
    )
    return {str(receipt): as_bytes(leaf) for receipt, leaf in rows}


def _check_sequenced(database: Database, now: datetime) -> list[str]:
    """Every consent record the gate reads is a leaf, or fresh enough to be on its way."""
    rows = database.rows(
        "SELECT count(), countIf(inserted_at < {due:DateTime64(3, 'UTC')}), "
        "argMinIf(receipt_id, recorded_at, inserted_at < {due:DateTime64(3, 'UTC')}), "
        "minIf(recorded_at, inserted_at < {due:DateTime64(3, 'UTC')}) "
        "FROM consent_records WHERE receipt_id NOT IN (SELECT receipt_id FROM consent_log)",
        {"due": now - UNSEQUENCED_GRACE},
    )
    waiting, overdue, oldest, recorded = rows[0]
    if overdue:
        raise AuditFailed(
            None,
            f"{overdue} consent records that the consent gate reads are not in the log and "
            f"cannot be proven (the oldest, receipt {oldest}, was recorded "
            f"{recorded:%Y-%m-%d %H:%M:%S} UTC)",
        )
    if waiting:
        return [f"{waiting} consent records of the last minutes wait for the sequencer"]
    return []
