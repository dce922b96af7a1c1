"""A dishonest operator holds the log's key: rewriting the tail or the whole log passes a
store-only audit, and is caught by a checkpoint held elsewhere and by a witness."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from consent.audit import AuditEvidence, verify_log
from consent.cosigned import CosignedCheckpoints
from consent.log_reader import LogReader
from consent.witness import Witness, WitnessRefused
from consent.witness_pull import witness_once
from tests.consent.conftest import ConsentWorld

SYNC = " SETTINGS mutations_sync = 2"


@dataclass
class ReaderEndpoint:
    """The log's public API as ``consent.witness_pull.LogEndpoint`` sees it, answered by
    the same ``LogReader`` and ``CosignedCheckpoints`` that serve it over HTTP."""

    reader: LogReader
    cosigned: CosignedCheckpoints

    def checkpoint(self) -> str:
        note = self.reader.checkpoint()
        assert note is not None
        return note

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        proof = self.reader.consistency(old_size, new_size)["proof"]
        return [base64.b64decode(node) for node in proof]

    def submit(self, cosigned_note: str) -> bool:
        self.cosigned.accept(cosigned_note)
        return True


@dataclass
class Published:
    world: ConsentWorld
    witness: Witness
    log: ReaderEndpoint
    held: str  # the checkpoint of 8 entries, as a visitor's receipt carries it
    withdrawal: str  # the receipt id of the 7th entry

    def witness_round(self) -> int:
        self.log.reader.forget_latest()
        return witness_once(self.witness, self.log, self.world.keys.verifier).tree_size  # type: ignore[arg-type]

    def evidence(self, **given: object) -> AuditEvidence:
        return AuditEvidence(**given)  # type: ignore[arg-type]


@pytest.fixture
def published(world: ConsentWorld, tmp_path: Path) -> Published:
    """8 entries, the 7th a withdrawal, under checkpoints 4, 6 and 8, cosigned by a witness
    at 4 and 8; a visitor holds the receipt of the withdrawal with checkpoint 8."""
    witness = Witness.create(tmp_path / "witness", "auditor.example/w1")
    cosigned = CosignedCheckpoints(world.store, world.keys.verifier, [witness.key.vkey], 1)
    reader = LogReader(world.store, world.keys.verifier, cosigned)
    log = ReaderEndpoint(reader, cosigned)
    browsers = [secrets.token_urlsafe(16) for _ in range(7)]
    for browser in browsers[:4]:
        world.decide(browser_id=browser)
    world.sequencer.run_once()
    done = Published(world, witness, log, "", "")
    assert done.witness_round() == 4
    for browser in browsers[4:6]:
        world.decide(browser_id=browser)
    world.sequencer.run_once()
    withdrawal = world.decide(analytics=False, browser_id=browsers[0])
    world.decide(browser_id=browsers[6])
    world.sequencer.run_once()
    assert done.witness_round() == 8
    receipt = reader.receipt(withdrawal.receipt_id)
    assert receipt is not None
    assert receipt["log"]["tree_size"] == 8
    done.held, done.withdrawal = receipt["log"]["checkpoint"], withdrawal.receipt_id
    return done


def rewrite_tail(world: ConsentWorld, withdrawal: str) -> None:
    """Delete leaves 6 and up with their nodes, receipts index and checkpoints, and the
    withdrawal itself; the sequencer re-appends the rest and a new decision. The log's
    fence remembers the indexes it appended (a repeat there is dropped), so the operator
    switches the table's insert deduplication off first."""
    for sql in (
        "ALTER TABLE consent_log MODIFY SETTING non_replicated_deduplication_window = 0",
        "ALTER TABLE consent_log DELETE WHERE log_index >= 6",
        "ALTER TABLE consent_log_nodes DELETE WHERE bitShiftLeft(node_index + 1, level) > 6",
        "ALTER TABLE checkpoints DELETE WHERE tree_size > 6",
        "ALTER TABLE checkpoint_cosignatures DELETE WHERE tree_size > 6",
        f"ALTER TABLE consent_records DELETE WHERE receipt_id = '{withdrawal}'",
    ):
        world.store.command(sql + SYNC)
    world.store.command("TRUNCATE TABLE consent_log_receipts")
    world.store.insert(
        "consent_log_receipts",
        [list(r) for r in world.store.rows("SELECT receipt_id, log_index FROM consent_log")],
        ["receipt_id", "log_index"],
    )
    world.decide()
    run = world.sequencer.run_once()
    assert run.tree_size == 8
    assert run.checkpoint is not None


def rewrite_everything(world: ConsentWorld, withdrawal: str) -> None:
    """Drop the whole log and the withdrawal; the sequencer rebuilds and re-signs."""
    for table in ("consent_log", "consent_log_nodes", "consent_log_receipts", "checkpoints",
                  "checkpoint_cosignatures"):  # fmt: skip
        world.store.command(f"TRUNCATE TABLE {table}")
    world.store.command(
        f"ALTER TABLE consent_records DELETE WHERE receipt_id = '{withdrawal}'" + SYNC
    )
    for _ in range(2):
        world.decide()
    run = world.sequencer.run_once()
    assert run.tree_size == 9


REWRITES = [pytest.param(rewrite_tail, id="tail"), pytest.param(rewrite_everything, id="full")]


@pytest.mark.parametrize("rewrite", REWRITES)
def test_a_rewrite_passes_the_store_only_audit(published: Published, rewrite: object) -> None:
    """What the issue found: the operator's own key re-signs the rewritten log."""
    rewrite(published.world, published.withdrawal)  # type: ignore[operator]
    report = verify_log(published.world.store, published.world.keys.verifier)
    assert report.ok, report.summary()


@pytest.mark.parametrize("rewrite", REWRITES)
def test_a_rewrite_is_caught_by_a_held_checkpoint(published: Published, rewrite: object) -> None:
    evidence = AuditEvidence(held=[published.held])
    before = verify_log(published.world.store, published.world.keys.verifier, evidence)
    assert before.ok, before.summary()
    assert "consistent with 1 held checkpoints (up to 8 entries)" in before.summary()
    rewrite(published.world, published.withdrawal)  # type: ignore[operator]
    after = verify_log(published.world.store, published.world.keys.verifier, evidence)
    assert not after.ok
    assert "do not have the root of the held checkpoint of 8 entries" in after.summary()
    assert after.first_bad_index == 7


@pytest.mark.parametrize("rewrite", REWRITES)
def test_a_rewrite_is_refused_by_the_witness_with_evidence(
    published: Published, rewrite: object
) -> None:
    rewrite(published.world, published.withdrawal)  # type: ignore[operator]
    with pytest.raises(WitnessRefused) as refused:
        published.witness_round()
    assert refused.value.status in (409, 422)
    evidence = refused.value.evidence
    assert evidence is not None
    verifier = published.world.keys.verifier
    held = verifier.open((evidence / "held.checkpoint").read_text())
    offered = verifier.open((evidence / "offered.checkpoint").read_text())
    assert held.tree_size == 8
    assert held.root_hash != offered.root_hash
    # The witness still holds what it cosigned: evidence for the audit.
    kept = published.witness.latest_note(verifier.origin)
    assert kept is not None
    assert verifier.open(kept) == held


@pytest.mark.parametrize("rewrite", REWRITES)
def test_a_rewrite_fails_the_audit_given_the_witness_key(
    published: Published, rewrite: object
) -> None:
    """The rewrite drops the cosignatures it invalidated; what was integrated since is not
    witnessed, and an audit that allows no lag (these entries are seconds old) says so."""
    evidence = AuditEvidence(witnesses=[published.witness.key.vkey], witness_lag=timedelta(0))
    before = verify_log(published.world.store, published.world.keys.verifier, evidence)
    assert before.ok, before.summary()
    assert "checkpoint of 8 entries is cosigned by 1 of the 1 given witnesses" in before.summary()
    rewrite(published.world, published.withdrawal)  # type: ignore[operator]
    after = verify_log(published.world.store, published.world.keys.verifier, evidence)
    assert not after.ok, after.summary()
    assert "no checkpoint cosigned by 1 of the 1 given witnesses covers it" in after.summary() or (
        "nothing here is witnessed" in after.summary()
    )


def test_cosignatures_left_on_a_rewritten_checkpoint_fail_the_audit(published: Published) -> None:
    world = published.world
    columns = ["tree_size", "root_hash", "witness", "cosigned_at", "line"]
    kept = world.store.rows(f"SELECT {', '.join(columns)} FROM checkpoint_cosignatures")
    rewrite_tail(world, published.withdrawal)
    world.store.insert("checkpoint_cosignatures", [list(row) for row in kept], columns)
    evidence = AuditEvidence(witnesses=[published.witness.key.vkey])
    report = verify_log(world.store, world.keys.verifier, evidence)
    assert not report.ok
    assert "cosigned a checkpoint of 8 entries that the store does not hold" in report.summary()


def test_a_shortened_log_is_caught_by_a_held_checkpoint(published: Published) -> None:
    world = published.world
    for sql in (
        "ALTER TABLE consent_log DELETE WHERE log_index >= 6",
        "ALTER TABLE checkpoints DELETE WHERE tree_size > 6",
    ):
        world.store.command(sql + SYNC)
    report = verify_log(world.store, world.keys.verifier, AuditEvidence(held=[published.held]))
    assert not report.ok
    assert "is held, but the store has 6: entries were removed" in report.summary()


def test_a_held_checkpoint_signed_by_another_key_is_not_evidence(
    published: Published, tmp_path: Path
) -> None:
    from consent.log_keys import LogKeys

    other = LogKeys.load(published.world.settings.log_origin, tmp_path / "other.key")
    _, note = other.sign(8, b"\x01" * 32, published.world.sequencer._clock())
    report = verify_log(
        published.world.store, published.world.keys.verifier, AuditEvidence(held=[note])
    )
    assert not report.ok
    assert "held checkpoint #1 is not signed by the pinned log key" in report.summary()
