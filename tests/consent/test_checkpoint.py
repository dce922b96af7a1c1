"""Signed checkpoints: the C2SP formats, signatures, and the signing key file."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.checkpoint import (
    Checkpoint,
    load_or_create_signing_key,
    parse_signed_checkpoint,
    sign_checkpoint,
)
from consent.errors import CheckpointError, ConsentError, SigningKeyError
from consent.signed_note import open_note, parse_verifier_key, sign_note, verifier_key

ORIGIN = "consent.example.com/log"
ROOT = hashlib.sha256(b"a root").digest()
CHECKPOINT = Checkpoint(ORIGIN, 1_000_000, ROOT, 1_767_225_600)

# The example note and key of golang.org/x/mod/sumdb/note, the reference
# implementation of signed notes. Ed25519 signatures are deterministic, so ours
# must match byte for byte.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    f"{GO_TEXT}\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def signed(key: Ed25519PrivateKey) -> str:
    return sign_checkpoint(CHECKPOINT, key, ORIGIN)


def go_signing_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_a_signed_checkpoint_parses_back_to_itself(key: Ed25519PrivateKey, signed: str) -> None:
    assert parse_signed_checkpoint(signed, key.public_key(), ORIGIN) == CHECKPOINT


def test_the_body_is_origin_size_root_and_timestamp_lines(signed: str) -> None:
    root_b64 = base64.b64encode(ROOT).decode()
    body = f"{ORIGIN}\n1000000\n{root_b64}\nTimestamp: 1767225600\n"
    assert CHECKPOINT.body() == body.encode()
    text, signature_line = signed.split("\n\n")
    assert text + "\n" == body
    assert re.fullmatch(rf"— {re.escape(ORIGIN)} [A-Za-z0-9+/]{{91}}=\n", signature_line)


def test_signed_notes_match_the_go_reference_byte_for_byte() -> None:
    go_key = go_signing_key()
    assert verifier_key("PeterNeumann", go_key.public_key()) == GO_VKEY
    assert sign_note(GO_TEXT, go_key, "PeterNeumann") == GO_NOTE
    name, public_key = parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann"
    assert open_note(GO_NOTE, public_key, name) == GO_TEXT


@pytest.mark.parametrize(
    ("line", "replacement"),
    [
        (ORIGIN, "consent.example.com/other-log"),
        ("1000000", "1000001"),
        (base64.b64encode(ROOT).decode(), base64.b64encode(bytes(32)).decode()),
        ("Timestamp: 1767225600", "Timestamp: 1767225601"),
    ],
)
def test_a_tampered_body_is_rejected(
    key: Ed25519PrivateKey, signed: str, line: str, replacement: str
) -> None:
    tampered = signed.replace(line + "\n", replacement + "\n", 1)
    assert tampered != signed
    with pytest.raises(CheckpointError, match="does not verify"):
        parse_signed_checkpoint(tampered, key.public_key(), ORIGIN)


def test_every_one_bit_change_to_the_signature_is_rejected(
    key: Ed25519PrivateKey, signed: str
) -> None:
    text, _, line = signed.rpartition("— ")
    name, blob = line.split()
    signature = base64.b64decode(blob)
    for bit in range(len(signature) * 8):
        changed = bytearray(signature)
        changed[bit // 8] ^= 1 << (bit % 8)
        note = f"{text}— {name} {base64.b64encode(changed).decode()}\n"
        with pytest.raises(CheckpointError):
            parse_signed_checkpoint(note, key.public_key(), ORIGIN)


def test_a_checkpoint_signed_by_another_key_is_rejected(signed: str) -> None:
    other = Ed25519PrivateKey.generate()
    with pytest.raises(CheckpointError, match=rf"not signed by {re.escape(ORIGIN)}\+[0-9a-f]{{8}}"):
        parse_signed_checkpoint(signed, other.public_key(), ORIGIN)


def test_a_checkpoint_signed_under_another_key_name_is_rejected(
    key: Ed25519PrivateKey, signed: str
) -> None:
    with pytest.raises(CheckpointError, match="not signed by"):
        parse_signed_checkpoint(signed, key.public_key(), "someone.else.example")


def test_signatures_by_unknown_keys_are_ignored(key: Ed25519PrivateKey, signed: str) -> None:
    witness = sign_note(CHECKPOINT.body().decode(), Ed25519PrivateKey.generate(), "witness")
    cosigned = signed + witness.rpartition("\n\n")[2]
    assert cosigned.count("— ") == 2
    assert parse_signed_checkpoint(cosigned, key.public_key(), ORIGIN) == CHECKPOINT


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (f"{ORIGIN}\n1000000\n{base64.b64encode(ROOT).decode()}\n", "4 lines"),
        (f"{ORIGIN}\n01000000\n{base64.b64encode(ROOT).decode()}\nTimestamp: 1\n", "decimal"),
        (f"{ORIGIN}\n+1000000\n{base64.b64encode(ROOT).decode()}\nTimestamp: 1\n", "decimal"),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\nTimestamp: 1\n", "32 bytes"),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()[:-1]}\nTimestamp: 1\n", "base64"),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\nTime: 1\n", "Timestamp"),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\nTimestamp: -1\n", "Timestamp"),
        (f"\n1\n{base64.b64encode(ROOT).decode()}\nTimestamp: 1\n", "origin"),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\nTimestamp: 1\nExtra: 2\n", "4 lines"),
    ],
)
def test_a_validly_signed_but_malformed_checkpoint_is_rejected(
    key: Ed25519PrivateKey, body: str, error: str
) -> None:
    with pytest.raises(CheckpointError, match=error):
        parse_signed_checkpoint(sign_note(body, key, ORIGIN), key.public_key(), ORIGIN)


@pytest.mark.parametrize(
    ("mangle", "error"),
    [
        (lambda note: note.replace("\n\n", "\n"), "no blank line"),
        (lambda note: note.rstrip("\n"), "no blank line"),
        (lambda note: note.replace("— ", "-- "), "malformed signature line"),
        (lambda note: note.replace("Timestamp", "Time\tstamp"), "control characters"),
        (lambda note: note + "— witness AAAA\n", "too short"),
        (lambda note: note + "— witness AAAA=\n", "base64"),
        (lambda note: note + "— witness AAAAAAAA\n" * 100, "more than 100 signatures"),
    ],
)
def test_a_malformed_note_is_rejected_with_the_reason(
    key: Ed25519PrivateKey, signed: str, mangle: Callable[[str], str], error: str
) -> None:
    with pytest.raises(CheckpointError, match=error):
        parse_signed_checkpoint(mangle(signed), key.public_key(), ORIGIN)


def test_the_verifier_key_names_the_key_and_round_trips(key: Ed25519PrivateKey) -> None:
    vkey = verifier_key(ORIGIN, key.public_key())
    name, key_hash, encoded = vkey.split("+", 2)
    assert name == ORIGIN
    raw = base64.b64decode(encoded)
    assert raw[0] == 1
    assert len(raw) == 33
    assert key_hash == hashlib.sha256(ORIGIN.encode() + b"\n" + raw).hexdigest()[:8]
    parsed_name, public_key = parse_verifier_key(vkey)
    assert parsed_name == ORIGIN
    assert verifier_key(parsed_name, public_key) == vkey


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ApD2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_a_malformed_verifier_key_is_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        parse_verifier_key(vkey)


def test_invalid_checkpoints_and_key_names_are_refused_before_signing(
    key: Ed25519PrivateKey,
) -> None:
    with pytest.raises(ValueError, match="one non-empty line"):
        Checkpoint("two\nlines", 1, ROOT, 0)
    with pytest.raises(ValueError, match="32 bytes"):
        Checkpoint(ORIGIN, 1, ROOT.hex().encode(), 0)
    with pytest.raises(ValueError, match="negative"):
        Checkpoint(ORIGIN, -1, ROOT, 0)
    with pytest.raises(ValueError, match="key name"):
        sign_checkpoint(CHECKPOINT, key, "has space")
    with pytest.raises(ValueError, match="key name"):
        verifier_key("a+b", key.public_key())
    with pytest.raises(ValueError, match="end with a newline"):
        sign_note("no newline", key, ORIGIN)


def test_errors_share_the_package_base_class() -> None:
    assert issubclass(CheckpointError, ConsentError)
    assert issubclass(SigningKeyError, ConsentError)


def test_the_signing_key_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log.pem"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert list(path.parent.iterdir()) == [path]
    again = load_or_create_signing_key(path)
    assert verifier_key("log", again.public_key()) == verifier_key("log", key.public_key())


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_key_file_others_can_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "log.pem"
    load_or_create_signing_key(path)
    path.chmod(mode)
    with pytest.raises(SigningKeyError, match=f"accessible by group or others.*chmod 600 {path}"):
        load_or_create_signing_key(path)


def test_a_key_file_that_is_not_an_ed25519_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.pem"
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM key"):
        load_or_create_signing_key(path)
