"""C2SP signed notes: a text, a blank line, then one or more signature lines.

A signature line is ``— <key name> <base64(key ID || signature)>``. The key ID is the
first 4 bytes of SHA-256(key name || 0x0A || signature type || public key); the type
byte says what is signed: 0x01 an Ed25519 signature of the note text (the log's own,
as in Go's ``golang.org/x/mod/sumdb/note``), 0x04 a C2SP tlog-cosignature/v1 by a
witness (``consent.cosignature``). A verifier looks only at lines whose name and key ID
are those of a key it was given and ignores the rest, so one note carries the log's
signature and any number of cosignatures, and stays readable by any signed-note
verifier that knows one of the keys.

Keys are published as C2SP vkeys: ``<name>+<hex key ID>+<base64(type || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from consent.errors import CheckpointError

__all__ = [
    "CONTROL_CHARACTERS",
    "ED25519",
    "NoteSignature",
    "check_key_name",
    "key_id",
    "open_note",
    "parse_verifier_key",
    "raw_public_key",
    "sign_note",
    "split_note",
    "strict_b64decode",
    "verifier_key",
]

ED25519 = 0x01  # the signature type of an Ed25519 signature of the note text
_MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note: a bound on work per note
_SIGNATURE_LINE = re.compile(r"— (\S+) ([A-Za-z0-9+/]+=*)")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x09\x0b-\x1f]")  # all but newline
_KEY_NAME = re.compile(r"[^\s+\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the signer's name, its key ID and what follows the key ID."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"— {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """The signed text (ending in a newline) and the note's signature lines, unverified."""
    if CONTROL_CHARACTERS.search(note):
        raise CheckpointError("signed note holds control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("signed note has no blank line before its signature lines")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {_MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None:
            raise CheckpointError(f"malformed signature line {line!r:.120}")
        blob = strict_b64decode(match[2], "signature")
        if len(blob) < 5:
            raise CheckpointError(f"signature line {line!r:.120} is too short")
        signatures.append(NoteSignature(match[1], blob[:4], blob[4:]))
    return text, signatures


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """A C2SP signed note of ``text`` (which must end in a newline) with one signature."""
    check_key_name(key_name)
    if not text.endswith("\n") or CONTROL_CHARACTERS.search(text):
        raise ValueError("note text must end with a newline and hold no other control characters")
    line = NoteSignature(
        key_name,
        key_id(key_name, ED25519, private_key.public_key()),
        private_key.sign(text.encode()),
    ).line
    return f"{text}\n{line}"


def open_note(note: str, public_key: Ed25519PublicKey, key_name: str) -> str:
    """The text of a signed note, once a signature by this key verifies.

    Signatures by other keys (say, witnesses' cosignatures) are ignored.
    """
    text, signatures = split_note(note)
    want = key_id(key_name, ED25519, public_key)
    for signature in signatures:
        if signature.name != key_name or signature.key_id != want:
            continue
        try:
            public_key.verify(signature.signature, text.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature by {key_name} does not verify") from None
        return text
    raise CheckpointError(f"note is not signed by {key_name}+{want.hex()}")


def verifier_key(key_name: str, public_key: Ed25519PublicKey, kind: int = ED25519) -> str:
    """The C2SP vkey ``<name>+<hex key ID>+<base64(type || public key)>``."""
    check_key_name(key_name)
    encoded = base64.b64encode(bytes([kind]) + raw_public_key(public_key)).decode()
    return f"{key_name}+{key_id(key_name, kind, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str, kind: int = ED25519) -> tuple[str, Ed25519PublicKey]:
    """The key name and Ed25519 public key of a C2SP vkey of signature type ``kind``."""
    name, _, rest = vkey.partition("+")
    hex_id, _, encoded = rest.partition("+")
    if not _KEY_NAME.fullmatch(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CheckpointError(f"{vkey!r:.120} is not a verifier key '<name>+<hash>+<key>'")
    key = strict_b64decode(encoded, "verifier key")
    if len(key) != 33 or key[0] != kind:
        raise CheckpointError(f"verifier key {name} is not an Ed25519 key of type 0x{kind:02x}")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError as exc:
        raise CheckpointError(f"verifier key {name} is not a valid Ed25519 key") from exc
    if key_id(name, kind, public_key).hex() != hex_id:
        raise CheckpointError(f"verifier key {name} has key hash {hex_id}, which does not match")
    return name, public_key


def key_id(key_name: str, kind: int, public_key: Ed25519PublicKey) -> bytes:
    material = key_name.encode() + b"\n" + bytes([kind]) + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:4]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def check_key_name(key_name: str) -> None:
    if not _KEY_NAME.fullmatch(key_name):
        raise ValueError(f"key name {key_name!r} must be non-empty, without spaces or '+'")


def strict_b64decode(text: str, what: str) -> bytes:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} {text!r:.120} is not valid base64") from None
    if base64.b64encode(decoded).decode() != text:
        raise CheckpointError(f"{what} {text!r:.120} is not canonical base64")
    return decoded
