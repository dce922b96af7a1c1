"""Signed checkpoints of the consent transparency log.

A checkpoint is the C2SP tlog-checkpoint note text::

    <origin>
    <tree size, decimal>
    <root hash, base64>
    Timestamp: <unix seconds>

signed as a C2SP signed note with Ed25519 (``consent.signed_note``). Anyone with the
verifier key (``verifier_key``) can check it with Go's ``golang.org/x/mod/sumdb/note``
or any other signed-note implementation; witnesses add their cosignatures as further
signature lines (``consent.cosignature``).

tlog-checkpoint has no standard time field, so the signing time is our one
extension line, in whole seconds like C2SP cosignature timestamps. Extension
lines are opaque to other verifiers; ours rejects any other extension line, so
``Checkpoint.body()`` is always exactly the text that was signed.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from consent.errors import CheckpointError, SigningKeyError
from consent.signed_note import CONTROL_CHARACTERS, open_note, sign_note, strict_b64decode

__all__ = [
    "Checkpoint",
    "load_or_create_signing_key",
    "parse_signed_checkpoint",
    "sign_checkpoint",
]

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: the log had ``tree_size`` leaves with this root at ``timestamp``."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if not self.origin or CONTROL_CHARACTERS.search(self.origin) or "\n" in self.origin:
            raise ValueError(f"checkpoint origin {self.origin!r} must be one non-empty line")
        if self.tree_size < 0:
            raise ValueError(f"checkpoint tree size {self.tree_size} is negative")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise ValueError(f"checkpoint root hash must be 32 bytes, not {self.root_hash!r:.80}")
        if self.timestamp < 0:
            raise ValueError(f"checkpoint timestamp {self.timestamp} is before 1970")

    def body(self) -> bytes:
        """The note text that gets signed."""
        root_b64 = base64.b64encode(self.root_hash).decode()
        text = f"{self.origin}\n{self.tree_size}\n{root_b64}\nTimestamp: {self.timestamp}\n"
        return text.encode()


def sign_checkpoint(cp: Checkpoint, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """The full signed note of ``cp``."""
    return sign_note(cp.body().decode(), private_key, key_name)


def parse_signed_checkpoint(text: str, public_key: Ed25519PublicKey, key_name: str) -> Checkpoint:
    """Verify a signed checkpoint note and parse it; ``CheckpointError`` if either fails."""
    lines = open_note(text, public_key, key_name).split("\n")[:-1]
    if len(lines) != 4:
        raise CheckpointError(
            f"a checkpoint has 4 lines (origin, size, root hash, Timestamp), not {len(lines)}"
        )
    origin, size_line, root_line, timestamp_line = lines
    if not _DECIMAL.fullmatch(size_line):
        raise CheckpointError(f"checkpoint tree size {size_line!r} is not a decimal number")
    root_hash = strict_b64decode(root_line, "checkpoint root hash")
    name, _, seconds = timestamp_line.partition(": ")
    if name != "Timestamp" or not _DECIMAL.fullmatch(seconds):
        raise CheckpointError(
            f"checkpoint line 4 must be 'Timestamp: <unix seconds>', not {timestamp_line!r}"
        )
    try:
        return Checkpoint(origin, int(size_line), root_hash, int(seconds))
    except ValueError as exc:
        raise CheckpointError(str(exc)) from exc


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The log's Ed25519 key from a PKCS#8 PEM file, generated there on first use.

    The file is created mode 0600 (its directory, if new, 0700); a key file
    that group or others may access is refused rather than trusted.
    """
    path = Path(path)
    if not path.exists():
        _create_key_file(path)
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise SigningKeyError(f"signing key {path} is not a regular file")
    if mode & 0o077:
        raise SigningKeyError(
            f"signing key {path} is accessible by group or others (mode {mode & 0o777:o}); "
            f"restrict it with `chmod 600 {path}` and start again"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"signing key {path} is not an unencrypted PEM key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is not an Ed25519 key")
    return key


def _create_key_file(path: Path) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        # link() fails if the key appeared meanwhile: two first runs keep one key.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
