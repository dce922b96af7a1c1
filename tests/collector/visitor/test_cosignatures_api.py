"""``POST /api/transparency/cosignatures``: the log keeps the cosignatures of the witnesses
it names, serves checkpoints with them, and proves receipts against the newest checkpoint
the quorum cosigned."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, Settings, TransparencySettings
from collector.app import create_app
from consent.cosignature import WitnessKey, cosign, cosigned_by, with_cosignatures
from consent.log_keys import LogKeys, LogVerifier
from consent.merkle import root
from consent.receipts import verify_receipt
from consent.witness import Witness
from tests.support.collector_app import decision, run_job
from tests.support.site_requests import HEADERS

WHEN = int(datetime(2026, 12, 6, tzinfo=UTC).timestamp())


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness.create(tmp_path / "witness", "auditor.example/w1")


@pytest.fixture
def client(settings: Settings, witness: Witness) -> Iterator[TestClient]:
    witnessed = settings.model_copy(
        update={
            "jobs": JobSettings(in_process=False),
            "transparency": TransparencySettings(witnesses=[witness.key.vkey], quorum=1),
        }
    )
    with TestClient(create_app(witnessed), client=("203.0.113.9", 50000)) as test_client:
        yield test_client


def decide_and_sequence(client: TestClient, n: int) -> list[str]:
    receipts = [
        client.post("/api/consent", json=decision(), headers=HEADERS).json()["receipt_id"]
        for _ in range(n)
    ]
    run_job(client, "consent.sequence")
    return receipts


def log_key(client: TestClient) -> LogVerifier:
    return LogVerifier(client.get("/api/transparency/public-key").text.strip())


def witness_round(client: TestClient, witness: Witness) -> str:
    """What ``clearsignal witness run`` does, through the app's HTTP API."""
    witness.follow(log_key(client))
    note = client.get("/api/transparency/checkpoint").text
    held = witness.latest(log_key(client).origin)
    old = held.tree_size if held else 0
    size = log_key(client).open(note).tree_size
    proof = []
    if 0 < old < size:
        answer = client.get("/api/transparency/consistency", params={"from": old, "to": size})
        proof = [base64.b64decode(node) for node in answer.json()["proof"]]
    line = witness.add_checkpoint(old, proof, note)
    response = client.post(
        "/api/transparency/cosignatures", content=with_cosignatures(note, [line]),
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": ["auditor.example/w1"]}
    return note


def test_a_cosigned_checkpoint_is_served_with_its_cosignature(
    client: TestClient, witness: Witness
) -> None:
    decide_and_sequence(client, 3)
    witness_round(client, witness)
    served = client.get("/api/transparency/checkpoint").text
    assert list(cosigned_by(served, [witness.key])) == ["auditor.example/w1"]
    assert log_key(client).open(served).tree_size == 3


def test_receipts_are_proven_against_the_newest_witnessed_checkpoint(
    client: TestClient, witness: Witness
) -> None:
    first = decide_and_sequence(client, 3)
    witness_round(client, witness)
    later = decide_and_sequence(client, 2)  # checkpoint 5, not witnessed yet
    proven = client.get(f"/api/consent/receipts/{first[0]}").json()
    assert proven["log"]["tree_size"] == 3
    assert "— auditor.example/w1 " in proven["log"]["checkpoint"]
    assert verify_receipt(proven, log_key(client)).tree_size == 3
    fresh = client.get(f"/api/consent/receipts/{later[0]}").json()
    assert fresh["log"]["tree_size"] == 5  # no witnessed checkpoint covers it: the latest
    assert verify_receipt(fresh, log_key(client)).log_index == 3


def test_cosignatures_the_log_cannot_take_are_refused(
    client: TestClient, witness: Witness, settings: Settings
) -> None:
    decide_and_sequence(client, 2)
    note = client.get("/api/transparency/checkpoint").text
    stranger = Ed25519PrivateKey.generate()
    unknown = with_cosignatures(note, [cosign(note, stranger, "stranger.example", WHEN)])
    text = {"Content-Type": "text/plain"}
    assert (
        client.post("/api/transparency/cosignatures", content=unknown, headers=text).status_code
        == 403
    )
    # A checkpoint of this log's key that the log never signed (another root).
    keys = LogKeys.load(settings.log_origin, settings.log_key_path)
    forged = keys.sign(2, root([b"a", b"b"]), datetime.now(UTC))[1]
    line = cosign(forged, witness._key, witness.name, WHEN)
    answer = client.post(
        "/api/transparency/cosignatures", content=with_cosignatures(forged, [line]), headers=text
    )
    assert answer.status_code == 409, answer.text
    # A line that claims the witness's key but does not verify.
    bad = with_cosignatures(note, [cosign(forged, witness._key, witness.name, WHEN)])
    assert (
        client.post("/api/transparency/cosignatures", content=bad, headers=text).status_code == 400
    )
    assert (
        client.post("/api/transparency/cosignatures", content=b"\xff", headers=text).status_code
        == 400
    )
    assert WitnessKey(witness.key.vkey).name == "auditor.example/w1"
