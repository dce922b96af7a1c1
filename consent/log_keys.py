"""The log's identity: its origin line, Ed25519 signing key and published verifier key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.checkpoint import (
    Checkpoint,
    load_or_create_signing_key,
    parse_signed_checkpoint,
    sign_checkpoint,
)
from consent.errors import CheckpointError
from consent.signed_note import parse_verifier_key, verifier_key

__all__ = ["LogKeys", "LogVerifier"]


@dataclass(frozen=True)
class LogVerifier:
    """What anyone needs to check the log's checkpoints: the published verifier key."""

    vkey: str

    @property
    def origin(self) -> str:
        return parse_verifier_key(self.vkey)[0]

    def open(self, note: str) -> Checkpoint:
        """The checkpoint of a signed note; ``CheckpointError`` unless our key signed it."""
        name, public_key = parse_verifier_key(self.vkey)
        checkpoint = parse_signed_checkpoint(note, public_key, name)
        if checkpoint.origin != name:
            raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, not {name!r}")
        return checkpoint


@dataclass(frozen=True)
class LogKeys:
    origin: str
    private_key: Ed25519PrivateKey

    @classmethod
    def load(cls, origin: str, path: Path) -> LogKeys:
        """The key at ``path``, generated (0600) on first use."""
        return cls(origin, load_or_create_signing_key(path))

    @property
    def verifier(self) -> LogVerifier:
        return LogVerifier(verifier_key(self.origin, self.private_key.public_key()))

    def sign(self, tree_size: int, root_hash: bytes, at: datetime) -> tuple[Checkpoint, str]:
        checkpoint = Checkpoint(self.origin, tree_size, root_hash, int(at.timestamp()))
        return checkpoint, sign_checkpoint(checkpoint, self.private_key, self.origin)
