"""Receipts verify offline with the log's public key, and any change to one fails."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from consent.errors import ReceiptError
from consent.log_keys import LogKeys, LogVerifier
from consent.log_reader import LogReader
from consent.receipts import verify_receipt
from tests.consent.conftest import ConsentWorld


def proven_receipts(world: ConsentWorld, count: int = 5) -> list[dict[str, Any]]:
    recorded = [world.decide(analytics=i % 2 == 0) for i in range(count)]
    world.sequencer.run_once()
    reader = LogReader(world.store, world.keys.verifier)
    receipts = [reader.receipt(r.receipt_id) for r in recorded]
    assert all(r is not None for r in receipts)
    return [r for r in receipts if r is not None]


def test_every_receipt_verifies_with_the_public_key_alone(world: ConsentWorld) -> None:
    receipts = proven_receipts(world)
    verifier = LogVerifier(world.keys.verifier.vkey)  # only the published key string
    for index, receipt in enumerate(receipts):
        verified = verify_receipt(receipt, verifier)
        assert verified.log_index == index
        assert verified.tree_size == len(receipts)
        assert verified.receipt_id == receipt["receipt_id"]


def test_a_receipt_shows_the_decision_as_logged(world: ConsentWorld) -> None:
    receipt = proven_receipts(world, 1)[0]
    site = world.settings.site("demo")
    assert site is not None
    assert receipt["controller"] == site.controller
    assert receipt["site"] == "demo"
    assert {p["id"]: p["choice"] for p in receipt["purposes"]} == {
        "measurement": "granted",
        "analytics": "granted",
        "personalization": "granted",
    }
    assert receipt["notice"]["version"] == "1"
    assert len(receipt["notice"]["sha256"]) == 64
    assert receipt["log"]["status"] == "included"


def test_a_receipt_before_integration_is_pending_and_says_so(world: ConsentWorld) -> None:
    recorded = world.decide()
    receipt = LogReader(world.store, world.keys.verifier).receipt(recorded.receipt_id)
    assert receipt is not None
    assert receipt["log"]["status"] == "pending"
    with pytest.raises(ReceiptError, match="no inclusion proof yet"):
        verify_receipt(receipt, world.keys.verifier)


def _flip_first(value: str) -> str:
    return ("A" if value[0] != "A" else "B") + value[1:]


def _padding_bits(value: str) -> str:
    """The same 32 bytes, spelled with the spare bits of the last symbol set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(value[-2])
    return value[:-2] + alphabet[last ^ 1] + "="


TAMPERING = {
    "a purpose choice": lambda r: r["purposes"][1].update(choice="denied"),
    "the entry": lambda r: r.update(entry=r["entry"].replace("granted", "denied", 1)),
    "the leaf hash": lambda r: r.update(leaf_hash="00" * 32),
    "the log index": lambda r: r["log"].update(log_index=r["log"]["log_index"] ^ 1),
    "the tree size": lambda r: r["log"].update(tree_size=r["log"]["tree_size"] + 1),
    "a proof hash": lambda r: r["log"]["inclusion_proof"].__setitem__(
        0, _flip_first(r["log"]["inclusion_proof"][0])
    ),
    "a proof hash's spelling": lambda r: r["log"]["inclusion_proof"].__setitem__(
        0, _padding_bits(r["log"]["inclusion_proof"][0])
    ),
    "a dropped proof hash": lambda r: r["log"]["inclusion_proof"].pop(),
    "the checkpoint": lambda r: r["log"].update(
        checkpoint=r["log"]["checkpoint"].replace("\n5\n", "\n6\n")
    ),
    "the subject": lambda r: r.update(subject="0" * 32),
    "the receipt format": lambda r: r.update(receipt_format="other/1"),
}


@pytest.mark.parametrize("what", sorted(TAMPERING))
def test_changing_any_part_of_a_receipt_makes_it_fail(world: ConsentWorld, what: str) -> None:
    receipt = copy.deepcopy(proven_receipts(world)[2])
    verify_receipt(receipt, world.keys.verifier)
    TAMPERING[what](receipt)
    with pytest.raises(ReceiptError):
        verify_receipt(receipt, world.keys.verifier)


def test_a_receipt_does_not_verify_under_another_log_key(
    world: ConsentWorld, tmp_path: Path
) -> None:
    receipt = proven_receipts(world, 2)[0]
    other = LogKeys.load(world.settings.log_origin, tmp_path / "other.key").verifier
    with pytest.raises(ReceiptError, match="different log key"):
        verify_receipt(receipt, other)
    receipt["log"].pop("verifier_key")
    with pytest.raises(ReceiptError, match="checkpoint does not verify"):
        verify_receipt(receipt, other)
