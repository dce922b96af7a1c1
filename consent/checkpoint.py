"""Signed checkpoints of the consent transparency log.

A checkpoint is the C2SP tlog-checkpoint note text::

    <origin>
    <tree size, decimal>
    <root hash, base64>
    Timestamp: <unix seconds>

signed as a C2SP signed-note with Ed25519: the text, a blank line, then
``— <key name> <base64(key hash || signature)>`` lines, where the key hash is
the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key). Anyone
with the verifier key (``verifier_key``) can check it with Go's
``golang.org/x/mod/sumdb/note`` or any other signed-note implementation.

tlog-checkpoint has no standard time field, so the signing time is our one
extension line, in whole seconds like C2SP cosignature timestamps. Extension
lines are opaque to other verifiers; ours rejects any other extension line, so
``Checkpoint.body()`` is always exactly the text that was signed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from consent.errors import CheckpointError, SigningKeyError

__all__ = [
    "Checkpoint",
    "load_or_create_signing_key",
    "open_note",
    "parse_signed_checkpoint",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
]

_ED25519 = b"\x01"  # the signed-note signature type of Ed25519
_MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note: a bound on work per note
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_SIGNATURE_LINE = re.compile(r"— (\S+) ([A-Za-z0-9+/]+=*)")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_KEY_NAME = re.compile(r"[^\s+\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: the log had ``tree_size`` leaves with this root at ``timestamp``."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: int

    def __post_init__(self) -> None:
        if not self.origin or _CONTROL.search(self.origin) or "\n" in self.origin:
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
    root_hash = _strict_b64decode(root_line, "checkpoint root hash")
    name, _, seconds = timestamp_line.partition(": ")
    if name != "Timestamp" or not _DECIMAL.fullmatch(seconds):
        raise CheckpointError(
            f"checkpoint line 4 must be 'Timestamp: <unix seconds>', not {timestamp_line!r}"
        )
    try:
        return Checkpoint(origin, int(size_line), root_hash, int(seconds))
    except ValueError as exc:
        raise CheckpointError(str(exc)) from exc


def sign_note(text: str, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """A C2SP signed note of ``text`` (which must end in a newline) with one signature."""
    _check_key_name(key_name)
    if not text.endswith("\n") or _CONTROL.search(text):
        raise ValueError("note text must end with a newline and hold no other control characters")
    key_hash = _key_hash(key_name, private_key.public_key())
    signature = private_key.sign(text.encode())
    return f"{text}\n— {key_name} {base64.b64encode(key_hash + signature).decode()}\n"


def open_note(note: str, public_key: Ed25519PublicKey, key_name: str) -> str:
    """The text of a signed note, once a signature by this key verifies.

    Signatures by other keys (say, witnesses' cosignatures) are ignored.
    """
    if _CONTROL.search(note):
        raise CheckpointError("signed note holds control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("signed note has no blank line before its signature lines")
    text, signature_lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if len(signature_lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {_MAX_SIGNATURES} signatures")
    signatures = []
    for line in signature_lines:
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None:
            raise CheckpointError(f"malformed signature line {line!r:.120}")
        blob = _strict_b64decode(match[2], "signature")
        if len(blob) < 5:
            raise CheckpointError(f"signature line {line!r:.120} is too short")
        signatures.append((match[1], blob[:4], blob[4:]))
    want_hash = _key_hash(key_name, public_key)
    for name, key_hash, signature in signatures:
        if name != key_name or key_hash != want_hash:
            continue
        try:
            public_key.verify(signature, text.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature by {key_name} does not verify") from None
        return text
    raise CheckpointError(f"note is not signed by {key_name}+{want_hash.hex()}")


def verifier_key(key_name: str, public_key: Ed25519PublicKey) -> str:
    """The C2SP vkey ``<name>+<hex key hash>+<base64(0x01 || public key)>``."""
    _check_key_name(key_name)
    key_hash = _key_hash(key_name, public_key).hex()
    return f"{key_name}+{key_hash}+{base64.b64encode(_ED25519 + _raw(public_key)).decode()}"


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """The key name and Ed25519 public key of a C2SP vkey string."""
    name, _, rest = vkey.partition("+")
    key_hash, _, encoded = rest.partition("+")
    if not _KEY_NAME.fullmatch(name) or not re.fullmatch(r"[0-9a-f]{8}", key_hash):
        raise CheckpointError(f"{vkey!r:.120} is not a verifier key '<name>+<hash>+<key>'")
    key = _strict_b64decode(encoded, "verifier key")
    if len(key) != 33 or key[:1] != _ED25519:
        raise CheckpointError(f"verifier key {name} is not an Ed25519 key")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError as exc:
        raise CheckpointError(f"verifier key {name} is not a valid Ed25519 key") from exc
    if _key_hash(name, public_key).hex() != key_hash:
        raise CheckpointError(f"verifier key {name} has key hash {key_hash}, which does not match")
    return name, public_key


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


def _key_hash(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(key_name.encode() + b"\n" + _ED25519 + _raw(public_key)).digest()[:4]


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_key_name(key_name: str) -> None:
    if not _KEY_NAME.fullmatch(key_name):
        raise ValueError(f"key name {key_name!r} must be non-empty, without spaces or '+'")


def _strict_b64decode(text: str, what: str) -> bytes:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} {text!r:.120} is not valid base64") from None
    if base64.b64encode(decoded).decode() != text:
        raise CheckpointError(f"{what} {text!r:.120} is not canonical base64")
    return decoded
