"""The stored transparency log: leaves, perfect-subtree node hashes and signed checkpoints.

``consent_log`` holds the leaves in index order, ``consent_log_nodes`` the hash of every
perfect subtree ``(level, index)`` the sequencer has completed, and ``checkpoints`` the
signed tree heads. A proof of any size is then the O(log n) node hashes
``consent.merkle`` asks for, fetched in one query; nothing is rehashed from the leaves.

Appending writes the leaves first, fenced: they are inserted with the deduplication
token ``leaves:<first index>``, so when two sequencers append at one index the store
keeps the first insert and drops the other, whose writer finds leaves not its own and
stops (``LogFencedError``) before it writes anything else. The node hashes and the
receipt index follow; ``complete`` writes them for leaves a crash left without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent.checkpoint import Checkpoint
from consent.database import Database
from consent.errors import LogFencedError, LogIntegrityError
from consent.merkle import (
    EMPTY_ROOT,
    NodeHash,
    SubtreeHash,
    compose_subtree,
    consistency_path,
    consistency_ranges,
    frontier_append,
    frontier_root,
    inclusion_path,
    inclusion_ranges,
    perfect_subtrees,
)

__all__ = ["LogLeaf", "PendingLeaf", "TransparencyLog", "as_bytes"]

_LEAF_COLUMNS = (
    "log_index", "leaf_hash", "entry", "receipt_id", "site", "visitor_key", "kind",
    "recorded_at", "integrated_at", "inserted_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PendingLeaf:
    """A recorded decision waiting for the sequencer."""

    receipt_id: str
    site: str
    visitor_key: str
    kind: str
    recorded_at: datetime
    entry: bytes
    leaf_hash: bytes
    inserted_at: datetime  # when the store took the record (the sequencer's window)


@dataclass(frozen=True, slots=True)
class LogLeaf:
    index: int
    receipt_id: str
    entry: bytes
    leaf_hash: bytes
    recorded_at: datetime
    integrated_at: datetime


class TransparencyLog:
    def __init__(self, database: Database) -> None:
        self._db = database

    def size(self) -> int:
        return int(self._db.rows("SELECT count() FROM consent_log")[0][0])

    def nodes(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the perfect subtrees ``(level, index)`` asked for."""
        keys = sorted(set(wanted))
        if not keys:
            return {}
        # Integers we computed ourselves: safe to inline, and one query for the whole proof.
        pairs = ",".join(f"({level},{index})" for level, index in keys)
        rows = self._db.rows(
            "SELECT level, node_index, hash FROM consent_log_nodes "
            f"WHERE (level, node_index) IN ({pairs})"
        )
        return {(int(level), int(index)): as_bytes(value) for level, index, value in rows}

    def nodes_within(
        self, start: int, end: int, min_level: int = 0, max_level: int = 63
    ) -> dict[tuple[int, int], bytes]:
        """Stored nodes of levels ``[min_level, max_level]`` that lie inside ``[start, end)``."""
        rows = self._db.rows(
            "SELECT level, node_index, hash FROM consent_log_nodes "
            "WHERE level BETWEEN {low:UInt8} AND {high:UInt8} "
            "AND bitShiftLeft(node_index, level) >= {start:UInt64} "
            "AND bitShiftLeft(node_index + 1, level) <= {end:UInt64}",
            {"low": min_level, "high": max_level, "start": start, "end": end},
        )
        return {(int(level), int(index)): as_bytes(value) for level, index, value in rows}

    def frontier(self, tree_size: int) -> list[bytes]:
        """The hashes of ``perfect_subtrees(0, tree_size)``, left to right."""
        wanted = perfect_subtrees(0, tree_size)
        found = self.nodes(wanted)
        return [self._need(found, key) for key in wanted]

    def root(self, tree_size: int) -> bytes:
        return frontier_root(self.frontier(tree_size)) if tree_size else EMPTY_ROOT

    def inclusion(self, index: int, tree_size: int) -> list[bytes]:
        """PATH(index, D[tree_size]) from stored nodes."""
        return self.leaf_and_inclusion(index, tree_size)[1]

    def leaf_and_inclusion(self, index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
        """The leaf hash at ``index`` and its PATH(index, D[tree_size]), in one query."""
        ranges = inclusion_ranges(index, tree_size)
        subtree, found = self._subtrees(ranges, extra=[(0, index)])
        return self._need(found, (0, index)), inclusion_path(index, tree_size, subtree)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[new_size]) from stored nodes."""
        subtree, _ = self._subtrees(consistency_ranges(old_size, new_size))
        return consistency_path(old_size, new_size, subtree)

    def append(
        self, tree_size: int, frontier: Sequence[bytes], leaves: Sequence[PendingLeaf],
        integrated_at: datetime,
    ) -> list[bytes]:  # fmt: skip
        """Append ``leaves`` after the first ``tree_size``; returns the new frontier."""
        self._db.insert(
            "consent_log",
            [
                (
                    tree_size + offset,
                    leaf.leaf_hash,
                    leaf.entry,
                    leaf.receipt_id,
                    leaf.site,
                    leaf.visitor_key,
                    leaf.kind,
                    leaf.recorded_at,
                    integrated_at,
                    leaf.inserted_at,
                )
                for offset, leaf in enumerate(leaves)
            ],
            _LEAF_COLUMNS,
            settings={"insert_deduplication_token": f"leaves:{tree_size}"},
        )
        self._check_fence(tree_size, [leaf.receipt_id for leaf in leaves])
        return self._index(
            tree_size, frontier, [(leaf.receipt_id, leaf.leaf_hash) for leaf in leaves]
        )

    def complete(self, tree_size: int) -> list[bytes]:
        """The frontier of ``tree_size``, after writing the node hashes and receipt index of
        leaves that a crash left without them (past the newest checkpoint at or below it)."""
        try:
            return self.frontier(tree_size)
        except LogIntegrityError:
            signed = int(
                self._db.rows(
                    "SELECT max(tree_size) FROM checkpoints WHERE tree_size <= {size:UInt64}",
                    {"size": tree_size},
                )[0][0]
            )
            unindexed = list(self.leaves(signed, tree_size))
            if [leaf.index for leaf in unindexed] != list(range(signed, tree_size)):
                raise
            pairs = [(leaf.receipt_id, leaf.leaf_hash) for leaf in unindexed]
            return self._index(signed, self.frontier(signed), pairs)

    def _check_fence(self, first: int, receipts: list[str]) -> None:
        """Raise unless every replica holds exactly ``receipts`` from ``first`` on: another
        sequencer's leaves there, or none at all (the store dropped ours as a repeat of
        leaves written at that index before and deleted since)."""
        stored = self._db.rows(
            f"SELECT log_index, receipt_id FROM {self._db.everywhere('consent_log')} "
            "WHERE log_index >= {first:UInt64} AND log_index < {end:UInt64}",
            {"first": first, "end": first + len(receipts)},
        )
        ours = {(first + offset, receipt) for offset, receipt in enumerate(receipts)}
        found = {(int(index), str(receipt)) for index, receipt in stored}
        if found - ours:
            raise LogFencedError(
                f"another sequencer appended leaves at index {min(found - ours)[0]} first; "
                "this one stops without writing more (run one `clearsignal jobs run` per "
                "deployment)"
            )
        if found != ours:
            raise LogIntegrityError(
                f"the leaves appended at index {first} are not stored as written; leaves "
                "once stored there were deleted. Run `clearsignal audit verify`"
            )

    def _index(
        self, first: int, frontier: Sequence[bytes], leaves: Sequence[tuple[str, bytes]]
    ) -> list[bytes]:
        """Write the node hashes and receipt index of leaves stored from ``first`` on."""
        created: list[NodeHash] = []
        current = list(frontier)
        for offset, (_, leaf_hash) in enumerate(leaves):
            current, nodes = frontier_append(first + offset, current, leaf_hash)
            created.extend(nodes)
        self._db.insert(
            "consent_log_nodes",
            [(n.level, n.index, n.hash) for n in created],
            ("level", "node_index", "hash"),
        )
        self._db.insert(
            "consent_log_receipts",
            [(receipt, first + offset) for offset, (receipt, _) in enumerate(leaves)],
            ("receipt_id", "log_index"),
        )
        return current

    def leaf_by_receipt(self, receipt_id: str) -> LogLeaf | None:
        indexed = self._db.rows(
            "SELECT log_index FROM consent_log_receipts WHERE receipt_id = {receipt:String} "
            "LIMIT 1",
            {"receipt": receipt_id},
        )
        if indexed:
            return self.leaf_at(int(indexed[0][0]))
        # Not indexed (yet): a crash between writing the leaves and their index.
        return self._one_leaf("receipt_id = {receipt:String}", {"receipt": receipt_id})

    def leaf_at(self, index: int) -> LogLeaf | None:
        return self._one_leaf("log_index = {index:UInt64}", {"index": index})

    def leaves(self, start: int = 0, end: int | None = None) -> Iterable[LogLeaf]:
        """Every stored leaf row in ``[start, end)`` in index order (duplicates included)."""
        until = "" if end is None else " AND log_index < {end:UInt64}"
        rows = self._db.rows(
            "SELECT log_index, receipt_id, entry, leaf_hash, recorded_at, integrated_at "
            "FROM consent_log WHERE log_index >= {start:UInt64}" + until + " ORDER BY log_index",
            {"start": start, "end": end or 0},
        )
        return (_leaf(row) for row in rows)

    def record_checkpoint(self, checkpoint: Checkpoint, note: str, signed_at: datetime) -> None:
        self._db.insert(
            "checkpoints",
            [(checkpoint.tree_size, checkpoint.root_hash, signed_at, note)],
            ("tree_size", "root_hash", "signed_at", "note"),
        )

    def latest_checkpoint_note(self) -> str | None:
        rows = self._db.rows(
            "SELECT note FROM checkpoints ORDER BY tree_size DESC, signed_at DESC LIMIT 1"
        )
        return str(rows[0][0]) if rows else None

    def checkpoint_note(self, tree_size: int) -> str | None:
        rows = self._db.rows(
            "SELECT note FROM checkpoints WHERE tree_size = {size:UInt64} "
            "ORDER BY signed_at DESC LIMIT 1",
            {"size": tree_size},
        )
        return str(rows[0][0]) if rows else None

    def checkpoint_notes(self) -> list[str]:
        rows = self._db.rows("SELECT note FROM checkpoints ORDER BY tree_size, signed_at")
        return [str(row[0]) for row in rows]

    def _one_leaf(self, where: str, parameters: dict[str, object]) -> LogLeaf | None:
        rows = self._db.rows(
            "SELECT log_index, receipt_id, entry, leaf_hash, recorded_at, integrated_at "
            f"FROM consent_log WHERE {where} ORDER BY log_index LIMIT 1",
            dict(parameters),
        )
        return _leaf(rows[0]) if rows else None

    def _subtrees(
        self, ranges: Sequence[tuple[int, int]], extra: Sequence[tuple[int, int]] = ()
    ) -> tuple[SubtreeHash, dict[tuple[int, int], bytes]]:
        wanted = [node for start, end in ranges for node in perfect_subtrees(start, end)]
        found = self.nodes([*wanted, *extra])

        def stored(level: int, index: int) -> bytes:
            return self._need(found, (level, index))

        return (lambda start, end: compose_subtree(start, end, stored)), found

    @staticmethod
    def _need(found: dict[tuple[int, int], bytes], key: tuple[int, int]) -> bytes:
        try:
            return found[key]
        except KeyError:
            raise LogIntegrityError(
                f"node hash (level {key[0]}, index {key[1]}) is missing from consent_log_nodes"
            ) from None


def _leaf(row: tuple[Any, ...]) -> LogLeaf:
    index, receipt_id, entry, leaf, recorded_at, integrated_at = row
    return LogLeaf(
        int(index), str(receipt_id), as_bytes(entry), as_bytes(leaf), recorded_at, integrated_at
    )


def as_bytes(value: Any) -> bytes:
    """A String/FixedString column value as bytes, however the driver returned it."""
    return value if isinstance(value, bytes) else str(value).encode()
