"""Text the site's team must read back, kept sealed: AES-256-GCM under a key derived from
the site key (HKDF-SHA256, one key per use), bound to the row it belongs to.

Two things are sealed, never stored in the clear: a customer's own reference at the site
(``consent.customer_references``), which the team needs to reach the customer, and an
agent's note on a case. The associated data names the row (site and customer key, or
site and case id), so a sealed value copied into another row does not open. Destroying
the site key, which shreds every pseudonym of the site, shreds these too.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["CASE_NOTE", "CUSTOMER_REFERENCE", "SealError", "Sealer"]

CUSTOMER_REFERENCE = b"clearsignal customer reference v1"
CASE_NOTE = b"clearsignal case note v1"
_NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value that does not open: damaged, moved to another row, or of another key."""


class Sealer:
    def __init__(self, site_key: bytes, use: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=use).derive(site_key)
        self._aead = AESGCM(key)

    def seal(self, text: str, row: bytes) -> str:
        """``text`` sealed for ``row`` (the associated data), as base64url text."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, text.encode("utf-8"), row)
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, sealed: str, row: bytes) -> str:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], row)
        except (InvalidTag, ValueError, binascii.Error, UnicodeEncodeError):
            raise SealError("the sealed value does not open for this row") from None
        return plain.decode("utf-8")
