"""Consent: purposes and notices, consent records and receipts, and the
transparency log that makes them verifiable (an RFC 6962 Merkle tree with
Ed25519-signed checkpoints and witnesses' cosignatures), plus audit and erasure.

Import from the modules (``consent.merkle``, ``consent.checkpoint``,
``consent.errors``); this package imports nothing so that ``import consent``
stays cheap.
"""

__all__ = [
    "checkpoint",
    "errors",
    "merkle",
]
