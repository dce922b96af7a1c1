"""Cosignatures (C2SP tlog-cosignature/v1): made and checked here, and read by Go's
reference signed-note package (golang.org/x/mod/sumdb/note) as any outside tool would."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.cosignature import WitnessKey, cosign, cosigned_by, with_cosignatures
from consent.errors import CheckpointError
from consent.log_keys import LogKeys
from consent.merkle import root
from consent.signed_note import key_id, split_note

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
WHEN = int(NOW.timestamp())


@pytest.fixture(scope="module")
def note_verify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/support/note_verify built against Debian's golang.org/x/mod (GOPATH mode)."""
    out = tmp_path_factory.mktemp("go") / "note_verify"
    env = {
        **os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(out.parent / "cache"), "GOFLAGS": "",
    }  # fmt: skip
    subprocess.run(
        ["go", "build", "-o", str(out), "./tests/support/note_verify/"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    return out


@pytest.fixture
def log() -> LogKeys:
    return LogKeys("shop.example/consent-log", Ed25519PrivateKey.generate())


def witness(name: str) -> tuple[Ed25519PrivateKey, WitnessKey]:
    key = Ed25519PrivateKey.generate()
    return key, WitnessKey.of(name, key.public_key())


def checkpoint(log: LogKeys) -> str:
    return log.sign(7, root([b"%d" % i for i in range(7)]), NOW)[1]


def test_a_cosignature_is_a_type_4_line_with_a_timestamp(log: LogKeys) -> None:
    key, public = witness("auditor.example/w1")
    line = cosign(checkpoint(log), key, "auditor.example/w1", WHEN)
    name, blob = line.rstrip("\n").split(" ")[1:]
    raw = base64.b64decode(blob)
    assert name == "auditor.example/w1"
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == key_id(name, 0x04, key.public_key()) == public.key_id
    assert int.from_bytes(raw[4:12], "big") == WHEN
    assert public.vkey.split("+")[2].startswith("B")  # base64 of 0x04 || key


def test_cosignatures_verify_by_witness_and_others_are_ignored(log: LogKeys) -> None:
    (k1, w1), (k2, w2), (k3, _) = (witness(f"w{i}.example") for i in (1, 2, 3))
    note = checkpoint(log)
    lines = [cosign(note, k, f"w{i}.example", WHEN + i) for i, k in ((1, k1), (2, k2), (3, k3))]
    both = with_cosignatures(note, lines)
    assert cosigned_by(both, [w1, w2]) == {"w1.example": WHEN + 1, "w2.example": WHEN + 2}
    # The log's own key still opens the note; appending twice adds nothing.
    assert log.verifier.open(both).tree_size == 7
    assert with_cosignatures(both, lines) == both
    assert len(split_note(both)[1]) == 4


def test_a_cosignature_of_another_checkpoint_or_time_does_not_verify(log: LogKeys) -> None:
    key, public = witness("w.example")
    note = checkpoint(log)
    other = log.sign(8, root([b"%d" % i for i in range(8)]), NOW)[1]
    moved = with_cosignatures(other, [cosign(note, key, "w.example", WHEN)])
    with pytest.raises(CheckpointError, match="does not verify"):
        cosigned_by(moved, [public])
    line = cosign(note, key, "w.example", WHEN)
    name, blob = line.rstrip("\n").split(" ")[1:]
    raw = bytearray(base64.b64decode(blob))
    raw[11] ^= 1  # another timestamp
    forged = f"— {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(CheckpointError, match="does not verify"):
        cosigned_by(with_cosignatures(note, [forged]), [public])


def test_witness_keys_round_trip_and_reject_a_log_key(log: LogKeys) -> None:
    _, public = witness("w.example")
    assert WitnessKey(public.vkey).name == "w.example"
    with pytest.raises(CheckpointError, match="type 0x04"):
        _ = WitnessKey(log.verifier.vkey).public_key
    with pytest.raises(ValueError, match="out of range"):
        cosign(checkpoint(log), Ed25519PrivateKey.generate(), "w.example", 1 << 63)


def test_go_sumdb_note_opens_a_cosigned_checkpoint_with_the_log_key_alone(
    log: LogKeys, note_verify: Path, tmp_path: Path
) -> None:
    key, public = witness("auditor.example/w1")
    note = checkpoint(log)
    path = tmp_path / "checkpoint"
    path.write_text(with_cosignatures(note, [cosign(note, key, "auditor.example/w1", WHEN)]))
    alone = subprocess.run(
        [note_verify, path, log.verifier.vkey], capture_output=True, text=True, check=True
    )
    opened = json.loads(alone.stdout)
    assert opened["text"] == split_note(note)[0]
    assert opened == {**opened, "verified": [log.origin], "unverified": ["auditor.example/w1"]}
    witnessed = subprocess.run(
        [note_verify, path, log.verifier.vkey, public.vkey], capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert sorted(json.loads(witnessed.stdout)["verified"]) == sorted(
        [log.origin, "auditor.example/w1"]
    )


def test_go_sumdb_note_refuses_a_forged_cosignature(
    log: LogKeys, note_verify: Path, tmp_path: Path
) -> None:
    key, public = witness("auditor.example/w1")
    note = checkpoint(log)
    other_checkpoint = log.sign(9, root([b"x"] * 9), NOW)[1]
    line = cosign(other_checkpoint, key, "auditor.example/w1", WHEN)  # signs another text
    path = tmp_path / "checkpoint"
    path.write_text(with_cosignatures(note, [line]))
    refused = subprocess.run(
        [note_verify, path, log.verifier.vkey, public.vkey], capture_output=True, text=True
    )
    assert refused.returncode == 1, refused.stdout
    assert "invalid signature" in refused.stderr
