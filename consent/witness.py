"""A witness of the consent log: cosigns checkpoints that extend what it saw, refuses others.

Anyone who wants to hold the operator to the log runs one, on another machine, with its
own key and state (``clearsignal witness``). Its state directory holds:

* ``witness.key``: its Ed25519 key (created 0600); ``witness.json``: its name and the
  logs it follows, each pinned to the log's verifier key on first use;
* ``logs/<origin>.checkpoint``: the latest checkpoint it cosigned, with its cosignature:
  evidence in its own right (``clearsignal audit verify --checkpoint``);
* ``evidence/<time>-<reason>/``: for every refusal that shows the log misbehaving, the
  checkpoint it held, the checkpoint it was offered, the proof, and what failed.

``Witness.add_checkpoint`` is the check of C2SP tlog-witness ``add-checkpoint``, with its
status codes: 404 unknown log, 403 not signed by the log's key, 400 old size beyond the
checkpoint, 409 old size not the one last cosigned (or equal sizes, different roots),
422 consistency proof fails. Checking and recording the new checkpoint happen under one
file lock, so two calls never roll the witness back.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clearsignal.clock import utc_now
from consent.checkpoint import Checkpoint, load_or_create_signing_key
from consent.cosignature import WitnessKey, cosign, with_cosignatures
from consent.errors import CheckpointError, ConsentError
from consent.log_keys import LogVerifier
from consent.merkle import verify_consistency

__all__ = ["Witness", "WitnessRefused"]


class WitnessRefused(ConsentError):
    """The witness did not cosign; ``evidence`` is set when it shows the log misbehaving."""

    def __init__(self, status: int, reason: str, evidence: Path | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.evidence = status, reason, evidence


@dataclass(frozen=True)
class _Held:
    note: str
    checkpoint: Checkpoint


class Witness:
    def __init__(self, state_dir: Path, clock: Callable[[], datetime] = utc_now) -> None:
        self.state_dir = Path(state_dir)
        self._clock = clock
        config = json.loads((self.state_dir / "witness.json").read_text())
        self.name: str = config["name"]
        self._logs: dict[str, str] = dict(config.get("logs", {}))
        self._key = load_or_create_signing_key(self.state_dir / "witness.key")
        self.key = WitnessKey.of(self.name, self._key.public_key())

    @classmethod
    def create(cls, state_dir: Path, name: str) -> Witness:
        """A new witness called ``name`` (a schema-less URL, say) with a fresh key."""
        state_dir = Path(state_dir)
        WitnessKey.of(name, load_or_create_signing_key(state_dir / "witness.key").public_key())
        config = state_dir / "witness.json"
        if config.exists():
            raise FileExistsError(f"{config} exists: this directory already holds a witness")
        _write_atomically(config, json.dumps({"name": name, "logs": {}}, indent=2) + "\n")
        return cls(state_dir)

    def follow(self, verifier: LogVerifier) -> None:
        """Pin a log's verifier key; a log already followed keeps the key first pinned."""
        pinned = self._logs.get(verifier.origin)
        if pinned is not None and pinned != verifier.vkey:
            raise WitnessRefused(
                403,
                f"log {verifier.origin} is pinned to {pinned}, not {verifier.vkey}; a log whose "
                "key changed is a new log to a witness (start a new state directory)",
            )
        if pinned is None:
            with self._locked():
                self._logs[verifier.origin] = verifier.vkey
                config = {"name": self.name, "logs": self._logs}
                _write_atomically(self.state_dir / "witness.json", json.dumps(config, indent=2))

    def latest(self, origin: str) -> Checkpoint | None:
        held = self._held(origin)
        return held.checkpoint if held else None

    def latest_note(self, origin: str) -> str | None:
        held = self._held(origin)
        return held.note if held else None

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note: str) -> str:
        """Check ``note`` against the last cosigned checkpoint; its cosignature line."""
        origin = note.split("\n", 1)[0]
        vkey = self._logs.get(origin)
        if vkey is None:
            raise WitnessRefused(404, f"this witness does not follow log {origin!r}")
        try:
            offered = LogVerifier(vkey).open(note)
        except CheckpointError as exc:
            raise WitnessRefused(
                403, f"the checkpoint is not signed by the log's key: {exc}"
            ) from None
        if old_size > offered.tree_size:
            raise WitnessRefused(400, f"old size {old_size} is beyond the checkpoint's size")
        with self._locked():
            held = self._held(origin)
            held_size = held.checkpoint.tree_size if held else 0
            if old_size != held_size:
                raise WitnessRefused(409, f"{held_size}\n")
            self._check(held, offered, proof, note)
            line = cosign(note, self._key, self.name, int(self._clock().timestamp()))
            _write_atomically(self._state_file(origin), with_cosignatures(note, [line]))
        return line

    def refuse_smaller(self, note: str) -> None:
        """Evidence and a refusal if the log now serves a checkpoint smaller than the one
        this witness cosigned: a log that went back on what it published."""
        origin = note.split("\n", 1)[0]
        held = self._held(origin)
        offered = LogVerifier(self._logs[origin]).open(note)
        if held is not None and offered.tree_size < held.checkpoint.tree_size:
            self._refuse(
                409,
                f"the log serves a checkpoint of {offered.tree_size} entries after this witness "
                f"cosigned one of {held.checkpoint.tree_size}: the log was rolled back",
                held, note, old_size=held.checkpoint.tree_size, proof=[],
            )  # fmt: skip

    def _check(
        self, held: _Held | None, offered: Checkpoint, proof: Sequence[bytes], note: str
    ) -> None:
        if held is None:
            if proof:
                raise WitnessRefused(400, "a first checkpoint comes with an empty proof")
            return
        old = held.checkpoint
        if old.tree_size == offered.tree_size:
            if old.root_hash != offered.root_hash:
                self._refuse(
                    409,
                    f"two checkpoints of {old.tree_size} entries with different roots: the log "
                    "was forked or rewritten",
                    held, note, old.tree_size, proof,
                )  # fmt: skip
            return
        if not verify_consistency(
            old.tree_size, offered.tree_size, old.root_hash, offered.root_hash, list(proof)
        ):
            self._refuse(
                422,
                f"the checkpoint of {offered.tree_size} entries is not an extension of the "
                f"cosigned one of {old.tree_size}: the consistency proof fails (the log was "
                "rewritten)",
                held, note, old.tree_size, proof,
            )  # fmt: skip

    def _refuse(
        self, status: int, reason: str, held: _Held, offered: str, old_size: int,
        proof: Sequence[bytes],
    ) -> None:  # fmt: skip
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = self.state_dir / "evidence" / f"{stamp}-{held.checkpoint.tree_size}-{status}"
        folder.mkdir(parents=True, exist_ok=True)
        request = f"old {old_size}\n" + "".join(
            base64.b64encode(node).decode() + "\n" for node in proof
        )
        for name, text in (
            ("held.checkpoint", held.note),
            ("offered.checkpoint", offered),
            ("add-checkpoint.request", f"{request}\n{offered}"),
            ("reason.txt", f"{reason}\n"),
        ):
            _write_atomically(folder / name, text)
        raise WitnessRefused(status, reason, folder)

    def _held(self, origin: str) -> _Held | None:
        path = self._state_file(origin)
        if not path.exists():
            return None
        note = path.read_text()
        return _Held(note, LogVerifier(self._logs[origin]).open(note))

    def _state_file(self, origin: str) -> Path:
        digest = hashlib.sha256(origin.encode()).hexdigest()[:16]
        return self.state_dir / "logs" / f"{digest}.checkpoint"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
