"""Witness cosignatures of checkpoints: C2SP tlog-cosignature/v1 with Ed25519.

A witness that has checked a checkpoint against the last one it cosigned (a consistency
proof) adds one signature line to the note, of signature type 0x04::

    — <witness name> base64(key ID || u64 big-endian timestamp || Ed25519 signature)

signing ``cosignature/v1\\ntime <timestamp>\\n`` followed by the whole note text. It
states: as of that time, this is the largest consistent tree the witness has seen for
the log. A signed-note verifier that knows only the log's key skips the line; one that
knows the witness key checks it (``cosigned_by``).
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from consent.errors import CheckpointError
from consent.signed_note import (
    NoteSignature,
    check_key_name,
    key_id,
    parse_verifier_key,
    split_note,
    verifier_key,
)

__all__ = ["COSIGNATURE_V1", "WitnessKey", "cosign", "cosigned_by", "with_cosignatures"]

COSIGNATURE_V1 = 0x04


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key, as its vkey ``<name>+<key ID>+<base64(0x04 || key)>``."""

    vkey: str

    @cached_property
    def _parsed(self) -> tuple[str, Ed25519PublicKey]:
        return parse_verifier_key(self.vkey, COSIGNATURE_V1)

    @property
    def name(self) -> str:
        return self._parsed[0]

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._parsed[1]

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, COSIGNATURE_V1, self.public_key)

    @classmethod
    def of(cls, name: str, public_key: Ed25519PublicKey) -> WitnessKey:
        return cls(verifier_key(name, public_key, COSIGNATURE_V1))

    def verify(self, text: str, signature: NoteSignature) -> int | None:
        """The cosignature's timestamp if ``signature`` is this witness's and holds."""
        if signature.name != self.name or not hmac.compare_digest(signature.key_id, self.key_id):
            return None
        if len(signature.signature) != 8 + 64:
            raise CheckpointError(f"the cosignature by {self.name} is not 72 bytes long")
        (timestamp,) = struct.unpack(">Q", signature.signature[:8])
        try:
            self.public_key.verify(signature.signature[8:], _message(text, timestamp))
        except InvalidSignature:
            raise CheckpointError(f"the cosignature by {self.name} does not verify") from None
        return int(timestamp)


def cosign(note: str, private_key: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """The cosignature line of ``name`` on the (log-signed) ``note``."""
    check_key_name(name)
    if not 0 <= timestamp < 1 << 63:
        raise ValueError(f"cosignature timestamp {timestamp} is out of range")
    text, _ = split_note(note)
    signature = private_key.sign(_message(text, timestamp))
    own_id = key_id(name, COSIGNATURE_V1, private_key.public_key())
    return NoteSignature(name, own_id, struct.pack(">Q", timestamp) + signature).line


def cosigned_by(note: str, witnesses: Iterable[WitnessKey]) -> dict[str, int]:
    """``{witness name: timestamp}`` of the given witnesses' cosignatures that verify.

    Lines of other keys are ignored; a line of a given witness that does not verify
    raises ``CheckpointError`` (someone altered the note or forged the line)."""
    text, signatures = split_note(note)
    found: dict[str, int] = {}
    for witness in witnesses:
        for signature in signatures:
            timestamp = witness.verify(text, signature)
            if timestamp is not None:
                found[witness.name] = max(timestamp, found.get(witness.name, 0))
    return found


def with_cosignatures(note: str, lines: Iterable[str]) -> str:
    """``note`` with the signature ``lines`` it does not carry yet appended."""
    held = note.split("\n")
    extra = [line for line in dict.fromkeys(lines) if line.rstrip("\n") not in held]
    return note + "".join(line if line.endswith("\n") else line + "\n" for line in extra)


def _message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()
