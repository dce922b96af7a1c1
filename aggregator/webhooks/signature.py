"""Webhook signatures: how a site proves that a webhook came from its own ClearSignal.

Every delivery carries one header::

    ClearSignal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, b"<t>." + body)>

``t`` is when the delivery was signed; ``body`` is the exact bytes of the request body;
``secret`` is the site's ``webhook.secret`` (UTF-8). A receiver recomputes the HMAC over
the body it received, compares in constant time, and rejects a timestamp more than
``tolerance`` seconds away from its own clock, so that a captured request cannot be
replayed later. ``verify_signature`` is the reference implementation (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_SECONDS", "sign", "verify_signature"]

SIGNATURE_HEADER = "ClearSignal-Signature"
TOLERANCE_SECONDS = 300


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``ClearSignal-Signature`` header value for ``body`` signed at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: bytes, header: str, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` made within ``tolerance``
    seconds of ``now`` (unix seconds). Any ``v1`` entry may match (several are allowed,
    for a secret being rotated); unknown entries are ignored."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value.isascii():
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body).encode()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in candidates)
