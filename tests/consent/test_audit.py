"""``verify_log`` finds every kind of tampering with the stored log, and names the index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from consent.audit import verify_log
from consent.log_keys import LogKeys
from consent.merkle import leaf_hash
from consent.transparency_log import PendingLeaf, TransparencyLog
from tests.consent.conftest import ConsentWorld

SYNC = " SETTINGS mutations_sync = 2"


@pytest.fixture
def logged(world: ConsentWorld) -> ConsentWorld:
    """A log of 7 entries under two checkpoints (sizes 4 and 7)."""
    for _ in range(4):
        world.decide()
    world.sequencer.run_once()
    for analytics in (True, False, True):
        world.decide(analytics=analytics)
    world.sequencer.run_once()
    return world


def leaf_row(world: ConsentWorld, index: int) -> tuple[object, ...]:
    return world.store.rows(
        "SELECT log_index, leaf_hash, entry, receipt_id, site, visitor_key, kind, recorded_at, "
        "integrated_at FROM consent_log WHERE log_index = {i:UInt64}",
        {"i": index},
    )[0]


LEAF_COLUMNS = (
    "log_index", "leaf_hash", "entry", "receipt_id", "site", "visitor_key", "kind",
    "recorded_at", "integrated_at",
)  # fmt: skip


def reinsert(world: ConsentWorld, row: tuple[object, ...], **changes: object) -> None:
    values = dict(zip(LEAF_COLUMNS, row, strict=True)) | changes
    world.store.insert("consent_log", [list(values.values())], list(values))


def test_an_untouched_log_verifies(logged: ConsentWorld) -> None:
    report = verify_log(logged.store, logged.keys.verifier)
    assert report.ok, report.summary()
    assert report.tree_size == 7
    assert report.checkpoints == 2
    assert "7 entries, 2 signed checkpoints" in report.summary()


def alter_entry(world: ConsentWorld) -> None:
    world.store.command(
        "ALTER TABLE consent_log UPDATE entry = replace(entry, 'granted', 'denied') "
        "WHERE log_index = 3" + SYNC
    )


def alter_entry_and_hash(world: ConsentWorld) -> None:
    row = leaf_row(world, 3)
    forged = bytes(row[2] if isinstance(row[2], bytes) else str(row[2]).encode()).replace(
        b"granted", b"denied"
    )
    world.store.command("ALTER TABLE consent_log DELETE WHERE log_index = 3" + SYNC)
    reinsert(world, row, entry=forged, leaf_hash=leaf_hash(forged))


def alter_entry_hash_and_node(world: ConsentWorld) -> None:
    alter_entry_and_hash(world)
    forged = leaf_row(world, 3)[1]
    world.store.command(
        "ALTER TABLE consent_log_nodes DELETE WHERE level = 0 AND node_index = 3" + SYNC
    )
    world.store.insert("consent_log_nodes", [[0, 3, forged]], ["level", "node_index", "hash"])


def delete_leaf(world: ConsentWorld) -> None:
    world.store.command("ALTER TABLE consent_log DELETE WHERE log_index = 3" + SYNC)


def insert_duplicate(world: ConsentWorld) -> None:
    reinsert(world, leaf_row(world, 3))


def reorder_leaves(world: ConsentWorld) -> None:
    two, three = leaf_row(world, 2), leaf_row(world, 3)
    world.store.command("ALTER TABLE consent_log DELETE WHERE log_index IN (2, 3)" + SYNC)
    reinsert(world, two, log_index=3)
    reinsert(world, three, log_index=2)


@pytest.mark.parametrize(
    ("tamper", "index", "message"),
    [
        (alter_entry, 3, "does not hash to its stored leaf hash"),
        (alter_entry_and_hash, 3, "differs from the node hash"),
        (alter_entry_hash_and_node, 3, "differs from the recorded decision"),
        (delete_leaf, 3, "leaf 3 is missing"),
        (insert_duplicate, 3, "leaf 3 is stored twice"),
        (reorder_leaves, 2, "differs from the node hash"),
    ],
)
def test_tampering_with_a_leaf_is_detected_at_its_index(
    logged: ConsentWorld, tamper: Callable[[ConsentWorld], None], index: int, message: str
) -> None:
    tamper(logged)
    report = verify_log(logged.store, logged.keys.verifier)
    assert not report.ok
    assert report.first_bad_index == index, report.summary()
    assert message in report.summary()
    assert f"FAILED at index {index}" in report.summary()


def test_a_forged_leaf_appended_with_its_node_is_detected(logged: ConsentWorld) -> None:
    forged = b'{"kind":"consent","receipt_id":"forged"}'
    reinsert(logged, leaf_row(logged, 6), log_index=7, entry=forged, leaf_hash=leaf_hash(forged),
             receipt_id="forged")  # fmt: skip
    logged.store.insert(
        "consent_log_nodes", [[0, 7, leaf_hash(forged)]], ["level", "node_index", "hash"]
    )
    report = verify_log(logged.store, logged.keys.verifier)
    assert report.first_bad_index == 7, report.summary()
    assert "recorded decision" in report.summary()


def test_a_rewritten_checkpoint_fails_its_signature(logged: ConsentWorld) -> None:
    logged.store.command(
        "ALTER TABLE checkpoints UPDATE note = replace(note, '\\n7\\n', '\\n6\\n') "
        "WHERE tree_size = 7" + SYNC
    )
    report = verify_log(logged.store, logged.keys.verifier)
    assert not report.ok
    assert "checkpoint #2 does not verify" in report.summary()


def test_an_altered_inner_node_hash_is_detected(logged: ConsentWorld) -> None:
    logged.store.command(
        "ALTER TABLE consent_log_nodes UPDATE hash = unhex(repeat('11', 32)) "
        "WHERE level = 2 AND node_index = 0" + SYNC
    )
    report = verify_log(logged.store, logged.keys.verifier)
    assert report.first_bad_index == 3
    assert "node hash (level 2, index 0) is not the one recomputed" in report.summary()


def test_a_log_signed_by_another_key_does_not_verify(logged: ConsentWorld, tmp_path: Path) -> None:
    other = LogKeys.load(logged.settings.log_origin, tmp_path / "other.key")
    report = verify_log(logged.store, other.verifier)
    assert not report.ok
    assert "does not verify" in report.summary()


def test_entries_not_yet_checkpointed_are_reported_not_failed(logged: ConsentWorld) -> None:
    log = TransparencyLog(logged.store)
    pending = [logged.decide()]
    frontier = log.frontier(7)
    log.append(
        7,
        frontier,
        [PendingLeaf(pending[0].receipt_id, "demo", pending[0].visitor_key, "consent",
                     pending[0].state.recorded_at, pending[0].entry, pending[0].leaf_hash,
                     pending[0].state.recorded_at)],
        pending[0].state.recorded_at,
    )  # fmt: skip
    report = verify_log(logged.store, logged.keys.verifier)
    assert report.ok, report.summary()
    assert "1 newest entries are not covered by a checkpoint yet" in report.summary()


def test_a_consent_record_the_log_does_not_hold_fails_the_audit(logged: ConsentWorld) -> None:
    """The consent gate reads consent_records; a record the log never got cannot be
    proven. On main the audit looked at the log only."""
    fresh = logged.decide()
    report = verify_log(logged.store, logged.keys.verifier)
    assert report.ok, report.summary()  # minutes old: waiting for the sequencer
    assert "1 consent records of the last minutes wait for the sequencer" in report.summary()
    logged.store.command(
        "ALTER TABLE consent_records UPDATE inserted_at = inserted_at - INTERVAL 1 HOUR "
        "WHERE receipt_id = {r:String} SETTINGS mutations_sync = 2",
        {"r": fresh.receipt_id},
    )
    report = verify_log(logged.store, logged.keys.verifier)
    assert not report.ok
    assert "1 consent records that the consent gate reads are not in the log" in report.summary()
    assert fresh.receipt_id in report.summary()
