"""The sequencer: the one writer of the transparency log.

Each run takes the recorded decisions not yet in the log (oldest first), appends them
as leaves with their node hashes, and signs a checkpoint of the new tree head. Before
extending the log it checks that the stored tree still has the root of the latest
checkpoint, so it never builds on a log that was altered underneath it.

Run exactly one sequencer per deployment: in embedded mode the server's scheduler, in
server mode the one ``clearsignal jobs run`` process (docs/scaling.md). Within a
process, runs are serialised by a lock.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clearsignal.clock import EPOCH, utc_now
from consent.checkpoint import Checkpoint
from consent.database import Database
from consent.errors import LogIntegrityError
from consent.log_keys import LogKeys
from consent.merkle import frontier_root
from consent.transparency_log import PendingLeaf, TransparencyLog, as_bytes

__all__ = ["LATE_WINDOW", "Sequencer", "SequencerRun"]

# A decision the store took this long before the newest integrated one is still picked
# up: inserts from other collector processes, and the clocks of several store nodes, may
# be that far out of order.
LATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class SequencerRun:
    integrated: int
    tree_size: int
    checkpoint: Checkpoint | None  # None when nothing new needed signing


class Sequencer:
    def __init__(
        self,
        database: Database,
        keys: LogKeys,
        clock: Callable[[], datetime] = utc_now,
        batch_size: int = 50_000,
    ) -> None:
        self._db = database
        self._log = TransparencyLog(database)
        self._keys = keys
        self._clock = clock
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._drained: tuple[Any, ...] | None = None
        """What ``_records`` said before this process's last run that left nothing pending."""

    def run_once(self) -> SequencerRun:
        with self._lock:
            # The checkpoint before the size: whatever another process appends and signs
            # in between, the size read second covers the checkpoint read first.
            latest = self._log.latest_checkpoint_note()
            tree_size = self._log.size()
            frontier = self._log.complete(tree_size)
            self._check_latest_checkpoint(latest, tree_size, frontier_root(frontier))
            integrated = 0
            records = self._records()
            if records != self._drained:
                while pending := self._pending():
                    frontier = self._log.append(tree_size, frontier, pending, self._clock())
                    tree_size += len(pending)
                    integrated += len(pending)
                    if len(pending) < self._batch_size:
                        break
                self._drained = records
            if integrated == 0 and self._log.checkpoint_note(tree_size) is not None:
                return SequencerRun(0, tree_size, None)
            now = self._clock()
            checkpoint, note = self._keys.sign(tree_size, frontier_root(frontier), now)
            self._log.record_checkpoint(checkpoint, note, now)
            return SequencerRun(integrated, tree_size, checkpoint)

    def _records(self) -> tuple[Any, ...]:
        """How many records the store holds and when it took the newest: records are never
        deleted, so while this stays the same no record came, and a run that found none
        pending need not look again (a look reads every record of the last hour, every
        few seconds)."""
        return tuple(self._db.rows("SELECT count(), max(inserted_at) FROM consent_records")[0])

    def _pending(self) -> list[PendingLeaf]:
        """Records the store took since shortly before the newest leaf's record, and that
        are not leaves: by ``inserted_at``, so a decision recorded long ago but inserted
        late (kept through a store outage) is never left behind. A record is a leaf already if
        a leaf of the same window holds it (also when a crash came between writing leaves
        and their index) or the receipt index does (a record inserted again much later)."""
        newest = self._db.rows("SELECT max(inserted_at), count() FROM consent_log")[0]
        since = newest[0] - LATE_WINDOW if newest[1] else EPOCH
        # The batch is chosen on the narrow columns first, and only its rows are read
        # with their entries: sorting every pending record's entry took hundreds of MB.
        rows = self._db.rows(
            "SELECT receipt_id, site, visitor_key, kind, recorded_at, entry, leaf_hash, "
            "inserted_at FROM consent_records "
            "WHERE (receipt_id, inserted_at, recorded_at) IN ("
            "  SELECT receipt_id, inserted_at, recorded_at FROM consent_records "
            "  WHERE inserted_at >= {since:DateTime64(3, 'UTC')} AND receipt_id NOT IN ("
            "    SELECT receipt_id FROM consent_log "
            "    WHERE inserted_at >= {since:DateTime64(3, 'UTC')}) "
            "  AND receipt_id NOT IN ("
            "    SELECT receipt_id FROM consent_log_receipts WHERE receipt_id IN ("
            "      SELECT receipt_id FROM consent_records "
            "      WHERE inserted_at >= {since:DateTime64(3, 'UTC')})) "
            "  ORDER BY inserted_at, recorded_at, receipt_id LIMIT 1 BY receipt_id "
            "  LIMIT {limit:UInt32}) "
            "ORDER BY inserted_at, recorded_at, receipt_id LIMIT 1 BY receipt_id",
            {"since": since, "limit": self._batch_size},
        )
        return [
            PendingLeaf(
                str(receipt),
                str(site),
                str(key),
                str(kind),
                recorded_at,
                as_bytes(entry),
                as_bytes(leaf),
                inserted_at,
            )
            for receipt, site, key, kind, recorded_at, entry, leaf, inserted_at in rows
        ]

    def _check_latest_checkpoint(self, note: str | None, tree_size: int, root_hash: bytes) -> None:
        if note is None:
            return
        latest = self._keys.verifier.open(note)
        if latest.tree_size > tree_size:
            raise LogIntegrityError(
                f"the log holds {tree_size} leaves but checkpoint {latest.tree_size} was signed; "
                "leaves were deleted. Run `clearsignal audit verify` and restore the log"
            )
        if latest.tree_size == tree_size and not hmac.compare_digest(latest.root_hash, root_hash):
            raise LogIntegrityError(
                f"the stored tree of {tree_size} leaves no longer has the signed root; "
                "run `clearsignal audit verify` to find the altered leaf"
            )
