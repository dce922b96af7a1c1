"""A witness pulling from the log over HTTP, instead of waiting for the log to call it.

One round: fetch the log's latest checkpoint (``GET /api/transparency/checkpoint``),
fetch the consistency proof from the last checkpoint the witness cosigned
(``GET /api/transparency/consistency``), check and cosign it exactly as C2SP
tlog-witness ``add-checkpoint`` would (``Witness.add_checkpoint``), then hand the
cosignature to the log (``POST /api/transparency/cosignatures``). The witness needs no
open port and the log needs no list of witness addresses; what the witness checks and
signs is the same.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from consent.cosignature import with_cosignatures
from consent.log_keys import LogVerifier
from consent.witness import Witness

__all__ = ["LogEndpoint", "LogUnreachable", "WitnessRound", "witness_once"]

_TIMEOUT = 30.0
_MAX_ANSWER = 1 << 20


class LogUnreachable(OSError):
    """The log did not answer, or answered something a log does not."""


@dataclass(frozen=True)
class WitnessRound:
    tree_size: int
    previous_size: int
    submitted: bool  # the log took the cosignature


@dataclass(frozen=True)
class LogEndpoint:
    """The log's public HTTP API at ``base_url`` (say ``https://collector.example``)."""

    base_url: str

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"the log's URL {self.base_url!r} must start with http(s)://")

    def checkpoint(self) -> str:
        return self._call("GET", "/api/transparency/checkpoint").decode()

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        answer = json.loads(
            self._call("GET", f"/api/transparency/consistency?from={old_size}&to={new_size}")
        )
        return [base64.b64decode(node, validate=True) for node in answer["proof"]]

    def submit(self, cosigned_note: str) -> bool:
        try:
            self._call("POST", "/api/transparency/cosignatures", cosigned_note.encode())
        except LogUnreachable:
            return False
        return True

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(  # noqa: S310 (http(s) only: __post_init__)
            self.base_url.rstrip("/") + path,
            data=body,
            method=method,
            headers={"Content-Type": "text/plain; charset=utf-8"} if body else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310
                return bytes(response.read(_MAX_ANSWER))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise LogUnreachable(f"{method} {path}: {exc}") from exc


def witness_once(witness: Witness, log: LogEndpoint, verifier: LogVerifier) -> WitnessRound:
    """One round; ``WitnessRefused`` (with evidence) when the log's checkpoint does not
    extend the one this witness cosigned last."""
    witness.follow(verifier)
    note = log.checkpoint()
    offered = verifier.open(note)
    witness.refuse_smaller(note)
    held = witness.latest(verifier.origin)
    old_size = held.tree_size if held else 0
    proof = log.consistency(old_size, offered.tree_size) if 0 < old_size < offered.tree_size else []
    line = witness.add_checkpoint(old_size, proof, note)
    submitted = log.submit(with_cosignatures(note, [line]))
    return WitnessRound(offered.tree_size, old_size, submitted)
