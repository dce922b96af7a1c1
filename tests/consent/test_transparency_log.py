"""The stored log and its sequencer, checked against the pure RFC 6962 functions."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from clearsignal.purposes import Purpose
from consent.entries import ConsentDecision
from consent.errors import LogFencedError, LogIntegrityError
from consent.ledger import ConsentLedger, RecordedConsent
from consent.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from consent.pseudonyms import SiteKeys
from consent.transparency_log import PendingLeaf, TransparencyLog
from tests.consent.conftest import ConsentWorld


def pending_leaf(recorded: RecordedConsent) -> PendingLeaf:
    """The leaf a sequencer would append for ``recorded``."""
    r, now = recorded, datetime.now(UTC)
    return PendingLeaf(r.receipt_id, r.site, r.visitor_key, r.kind, now, r.entry, r.leaf_hash, now)


def entries_in_log(world: ConsentWorld) -> list[bytes]:
    return [leaf.entry for leaf in TransparencyLog(world.store).leaves()]


def test_the_sequencer_integrates_decisions_in_order_and_signs_the_root(
    world: ConsentWorld,
) -> None:
    recorded = [world.decide() for _ in range(5)]
    run = world.sequencer.run_once()
    assert run.integrated == 5
    assert run.tree_size == 5
    entries = entries_in_log(world)
    assert entries == [r.entry for r in recorded]
    assert run.checkpoint is not None
    assert run.checkpoint.root_hash == root(entries)
    note = TransparencyLog(world.store).latest_checkpoint_note()
    assert note is not None
    assert world.keys.verifier.open(note) == run.checkpoint


def test_a_run_with_nothing_new_signs_nothing(world: ConsentWorld) -> None:
    world.decide()
    world.sequencer.run_once()
    again = world.sequencer.run_once()
    assert again.integrated == 0
    assert again.checkpoint is None
    assert world.store.scalar("SELECT count() FROM checkpoints") == 1


def test_an_empty_log_gets_a_checkpoint_of_size_zero(world: ConsentWorld) -> None:
    run = world.sequencer.run_once()
    assert run.tree_size == 0
    assert run.checkpoint is not None
    assert run.checkpoint.root_hash == root([])


def test_stored_proofs_equal_the_rfc_proofs_for_every_leaf_and_size(
    world: ConsentWorld,
) -> None:
    for _ in range(3):  # three sequencer runs: proofs across batch boundaries
        for _ in range(7):
            world.decide()
        world.sequencer.run_once()
    log = TransparencyLog(world.store)
    entries = entries_in_log(world)
    assert log.size() == len(entries) == 21
    for size in (1, 2, 7, 13, 16, 21):
        assert log.root(size) == root(entries[:size])
        for index in range(size):
            proof = log.inclusion(index, size)
            assert proof == inclusion_proof(index, entries[:size])
            assert verify_inclusion(
                leaf_hash(entries[index]), index, size, proof, root(entries[:size])
            )
        for old in range(size + 1):
            proof = log.consistency(old, size)
            assert proof == consistency_proof(old, entries[:size])
            assert verify_consistency(old, size, root(entries[:old]), root(entries[:size]), proof)


def test_a_crash_after_writing_leaves_is_completed_by_the_next_run(world: ConsentWorld) -> None:
    world.decide()
    world.sequencer.run_once()
    pending = [world.decide() for _ in range(3)]
    log = TransparencyLog(world.store)
    # Simulate the crash: the pending leaves are written, their node hashes, the receipt
    # index and the checkpoint (written after them) are not.
    world.sequencer.run_once()
    for table, where in (
        ("consent_log_nodes", "bitShiftLeft(node_index + 1, level) > 1"),
        ("consent_log_receipts", "log_index >= 1"),
        ("checkpoints", "tree_size > 1"),
    ):
        world.store.command(f"ALTER TABLE {table} DELETE WHERE {where} SETTINGS mutations_sync = 2")
    with pytest.raises(LogIntegrityError, match="missing"):
        log.frontier(4)
    run = world.sequencer.run_once()
    assert run.tree_size == 4
    assert entries_in_log(world)[1:] == [r.entry for r in pending]
    assert run.checkpoint is not None
    assert run.checkpoint.root_hash == root(entries_in_log(world))
    assert log.frontier(4)
    assert log.leaf_by_receipt(pending[-1].receipt_id) is not None


def test_a_second_sequencer_appending_at_a_taken_index_is_fenced_off(world: ConsentWorld) -> None:
    world.decide()
    world.sequencer.run_once()
    log = TransparencyLog(world.store)
    mine, theirs = ([pending_leaf(world.decide()) for _ in range(2)] for _ in range(2))
    frontier = log.complete(1)
    log.append(1, frontier, theirs, datetime.now(UTC))
    with pytest.raises(LogFencedError, match="index 1"):
        log.append(1, frontier, mine, datetime.now(UTC))
    assert [leaf.receipt_id for leaf in log.leaves(1)] == [leaf.receipt_id for leaf in theirs]
    assert log.root(3) == root(entries_in_log(world))


def test_the_sequencer_refuses_to_extend_a_log_whose_signed_root_changed(
    world: ConsentWorld,
) -> None:
    for _ in range(4):
        world.decide()
    world.sequencer.run_once()
    world.store.command(
        "ALTER TABLE consent_log_nodes UPDATE hash = unhex(repeat('00', 32)) "
        "WHERE level = 2 AND node_index = 0 SETTINGS mutations_sync = 2"
    )
    world.decide()
    with pytest.raises(LogIntegrityError, match="no longer has the signed root"):
        world.sequencer.run_once()


def test_the_sequencer_refuses_to_extend_a_log_that_lost_signed_leaves(
    world: ConsentWorld,
) -> None:
    for _ in range(3):
        world.decide()
    world.sequencer.run_once()
    world.store.command(
        "ALTER TABLE consent_log DELETE WHERE log_index = 2 SETTINGS mutations_sync = 2"
    )
    with pytest.raises(LogIntegrityError, match="leaves were deleted"):
        world.sequencer.run_once()


def test_decisions_arriving_late_are_still_integrated(world: ConsentWorld) -> None:
    first = world.decide()
    world.sequencer.run_once()
    # A decision recorded earlier by another process lands after the log moved on.
    behind = ConsentLedger(
        world.store,
        world.settings,
        SiteKeys(world.settings.site_key_dir),
        clock=lambda: datetime.now(UTC) - timedelta(minutes=10),
    )
    late = behind.record(
        ConsentDecision("demo", secrets.token_urlsafe(16), {Purpose.ANALYTICS: True}, "1", "api")
    )
    run = world.sequencer.run_once()
    assert run.integrated == 1
    assert entries_in_log(world) == [first.entry, late.entry]


def test_random_batch_sizes_keep_the_log_equal_to_the_reference(world: ConsentWorld) -> None:
    rng = random.Random(6962)
    for _ in range(5):
        for _ in range(rng.randrange(0, 6)):
            world.decide(analytics=rng.random() < 0.7)
        world.sequencer.run_once()
    log = TransparencyLog(world.store)
    entries = entries_in_log(world)
    assert log.root(len(entries)) == root(entries)


def test_a_decision_inserted_hours_after_it_was_recorded_is_still_sequenced(
    world: ConsentWorld,
) -> None:
    """A decision kept through a store outage reaches the store hours after it was made.
    On main the sequencer looked back one hour by ``recorded_at`` and never took it."""
    world.decide()
    world.decide()
    world.sequencer.run_once()
    # Recorded by a collector three hours ago, while the store was unreachable.
    then = datetime.now(UTC) - timedelta(hours=3)
    offline = ConsentLedger(
        world.store, world.settings, SiteKeys(world.settings.site_key_dir), clock=lambda: then
    )
    late = offline.record(
        ConsentDecision("demo", secrets.token_urlsafe(16), {Purpose.ANALYTICS: True}, "1", "banner")
    )
    run = world.sequencer.run_once()
    assert run.integrated == 1
    assert TransparencyLog(world.store).leaf_by_receipt(late.receipt_id) is not None
    assert world.sequencer.run_once().integrated == 0  # and only once


def test_a_run_looks_for_pending_records_only_when_a_record_came(
    world: ConsentWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet deployment's sequencer runs every few seconds: it must not read the last
    hour's records each time, yet must take a record that came since at once."""
    world.decide()
    looks: list[int] = []
    pending = world.sequencer._pending
    monkeypatch.setattr(world.sequencer, "_pending", lambda: looks.append(1) or pending())
    assert world.sequencer.run_once().integrated == 1
    assert world.sequencer.run_once().integrated == 0
    assert len(looks) == 1
    late = world.decide()
    assert world.sequencer.run_once().integrated == 1
    assert entries_in_log(world)[-1] == late.entry
