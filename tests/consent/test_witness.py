"""The witness: cosigns what extends the checkpoint it cosigned last, refuses and keeps
evidence of anything else, with the status codes of C2SP tlog-witness add-checkpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.cosignature import cosigned_by
from consent.log_keys import LogKeys
from consent.merkle import consistency_proof, root
from consent.witness import Witness, WitnessRefused

ORIGIN = "shop.example/consent-log"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def entries(n: int, tag: str = "decision") -> list[bytes]:
    return [f'{{"{tag}":{i}}}'.encode() for i in range(n)]


@pytest.fixture
def log() -> LogKeys:
    return LogKeys(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def witness(tmp_path: Path, log: LogKeys) -> Witness:
    made = Witness.create(tmp_path / "witness", "auditor.example/w1")
    made.follow(log.verifier)
    return Witness(tmp_path / "witness", clock=lambda: NOW)


def signed(log: LogKeys, leaves: list[bytes]) -> str:
    return log.sign(len(leaves), root(leaves), NOW)[1]


def test_it_cosigns_a_first_checkpoint_and_each_extension(witness: Witness, log: LogKeys) -> None:
    first, later = entries(5), entries(12)
    line = witness.add_checkpoint(0, [], signed(log, first))
    assert line.startswith("— auditor.example/w1 ")
    assert witness.latest(ORIGIN).tree_size == 5  # type: ignore[union-attr]
    witness.add_checkpoint(5, consistency_proof(5, later), signed(log, later))
    held = witness.latest_note(ORIGIN)
    assert held is not None
    assert witness.latest(ORIGIN).tree_size == 12
    # What it keeps is the checkpoint with its own cosignature: evidence on its own.
    assert cosigned_by(held, [witness.key]) == {"auditor.example/w1": int(NOW.timestamp())}


def test_an_old_size_other_than_the_cosigned_one_is_a_conflict_naming_it(
    witness: Witness, log: LogKeys
) -> None:
    witness.add_checkpoint(0, [], signed(log, entries(5)))
    with pytest.raises(WitnessRefused) as refused:
        witness.add_checkpoint(3, consistency_proof(3, entries(9)), signed(log, entries(9)))
    assert (refused.value.status, refused.value.reason) == (409, "5\n")
    assert refused.value.evidence is None  # a stale client, not a misbehaving log


def test_a_tail_rewrite_is_refused_with_the_evidence_kept(witness: Witness, log: LogKeys) -> None:
    """Same size, another root: leaves after 6 were replaced and the log re-signed."""
    original = entries(8)
    witness.add_checkpoint(0, [], signed(log, original))
    rewritten = original[:6] + entries(2, "other")
    with pytest.raises(WitnessRefused) as refused:
        witness.add_checkpoint(8, [], signed(log, rewritten))
    assert refused.value.status == 409
    evidence = refused.value.evidence
    assert evidence is not None
    assert log.verifier.open((evidence / "held.checkpoint").read_text()).root_hash == root(original)
    assert log.verifier.open((evidence / "offered.checkpoint").read_text()).root_hash == root(
        rewritten
    )
    assert "forked or rewritten" in (evidence / "reason.txt").read_text()
    assert witness.latest(ORIGIN).root_hash == root(original)  # type: ignore[union-attr]


def test_a_rewritten_history_fails_the_consistency_proof(witness: Witness, log: LogKeys) -> None:
    witness.add_checkpoint(0, [], signed(log, entries(8)))
    forged = entries(3) + entries(10, "forged")
    with pytest.raises(WitnessRefused) as refused:
        witness.add_checkpoint(8, consistency_proof(8, forged), signed(log, forged))
    assert refused.value.status == 422
    assert refused.value.evidence is not None
    request = (refused.value.evidence / "add-checkpoint.request").read_text()
    assert request.startswith("old 8\n")
    assert request.count("\n\n") >= 1


def test_a_log_that_shrinks_is_refused_with_evidence(witness: Witness, log: LogKeys) -> None:
    witness.add_checkpoint(0, [], signed(log, entries(8)))
    with pytest.raises(WitnessRefused) as refused:
        witness.refuse_smaller(signed(log, entries(6)))
    assert refused.value.status == 409
    assert refused.value.evidence is not None
    assert "rolled back" in refused.value.reason


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("unknown log", 404),
        ("other key", 403),
        ("old beyond size", 400),
        ("proof for a first checkpoint", 400),
    ],
)
def test_requests_it_cannot_take_get_the_tlog_witness_status(
    witness: Witness, log: LogKeys, change: str, status: int
) -> None:
    note, old, proof = signed(log, entries(4)), 0, []
    if change == "unknown log":
        note = LogKeys("other.example/log", log.private_key).sign(4, root(entries(4)), NOW)[1]
    elif change == "other key":
        note = LogKeys(ORIGIN, Ed25519PrivateKey.generate()).sign(4, root(entries(4)), NOW)[1]
    elif change == "old beyond size":
        old = 9
    else:
        proof = [b"\x00" * 32]
    with pytest.raises(WitnessRefused) as refused:
        witness.add_checkpoint(old, proof, note)
    assert refused.value.status == status
    assert witness.latest(ORIGIN) is None


def test_a_log_key_is_pinned_on_first_use(tmp_path: Path, witness: Witness) -> None:
    other = LogKeys(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(WitnessRefused, match="pinned"):
        witness.follow(other.verifier)
    config = json.loads((witness.state_dir / "witness.json").read_text())
    assert config["name"] == "auditor.example/w1"
    assert list(config["logs"]) == [ORIGIN]
    assert (witness.state_dir / "witness.key").stat().st_mode & 0o077 == 0
    with pytest.raises(FileExistsError):
        Witness.create(witness.state_dir, "again")
