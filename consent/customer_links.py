"""Joining a customer of the site to a visitor: proven by the site, and only with consent.

A site's backend knows its customer reference, not the browser id. Two things make the
join safe:

- **The site proves the link.** For a signed-in page the site signs the customer
  reference with its link secret (``link_token``: HMAC-SHA256 over the site, the
  reference and an expiry at most ``MAX_LINK_SECONDS`` ahead, as support widgets verify
  a user's identity). The snippet's link add-on passes the token with the browser id and
  the collector checks it (``verify_link_token``). Without the secret nobody can link
  their browser to another customer and read that customer's events on /me.
- **Only pseudonyms are stored.** ``customer_key`` is HMAC-SHA256(site key, reference),
  domain-separated from the visitor key; the reference itself is never stored. Destroying
  the site key shreds both.

A server event counts for the customer's most recently linked visitor that holds a
current analytics grant when it is written (``CustomerLinks.consenting_visitors``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from clearsignal.purposes import Purpose
from consent.database import Database
from consent.errors import ConsentError
from consent.queries import consented_sql

__all__ = [
    "MAX_LINK_SECONDS",
    "CustomerKeys",
    "CustomerLinks",
    "LinkRefusal",
    "LinkRefused",
    "customer_key",
    "link_token",
    "verify_link_token",
]

MAX_LINK_SECONDS = 24 * 3600
"""A link token may be valid for at most a day: the site signs one per signed-in page."""
_VERSION = "v1"
_REFERENCE_MAX = 128
_SHA256_BLOCK = 64


def customer_key(site_key: bytes, reference: str) -> str:
    """The stored pseudonym of a site's customer reference: 128 bits of HMAC-SHA256, hex.

    ``customer\\x00`` separates it from ``visitor_key`` (HMAC of a browser id) under the
    same site key, so a reference that happens to look like a browser id keys nothing else.
    """
    return CustomerKeys(site_key).of(reference)


class CustomerKeys:
    """``customer_key`` for many references under one site key, answering a reference met
    again from memory. HMAC-SHA256 (RFC 2104) written out over two hash states computed
    once: the inner one keyed and past the domain prefix, the outer one keyed; per
    reference each is copied and finished, about half the work of ``hmac.HMAC.copy``."""

    def __init__(self, site_key: bytes) -> None:
        if len(site_key) > _SHA256_BLOCK:
            site_key = hashlib.sha256(site_key).digest()
        padded = site_key.ljust(_SHA256_BLOCK, b"\x00")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded) + b"customer\x00")
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
        self._known: dict[str, str] = {}

    def of(self, reference: str) -> str:
        found = self._known.get(reference)
        if found is None:
            inner = self._inner.copy()
            inner.update(reference.encode("utf-8"))
            outer = self._outer.copy()
            outer.update(inner.digest())
            found = self._known[reference] = outer.hexdigest()[:32]
        return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, site: str, reference: str, expires: int) -> bytes:
    message = f"clearsignal-link/{_VERSION}\n{site}\n{reference}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def link_token(secret: bytes, site: str, reference: str, expires: int) -> str:
    """What a site's backend puts on a signed-in page: ``v1.<expiry>.<ref>.<mac>``, with
    the expiry in Unix seconds and the reference and MAC in unpadded base64url."""
    mac = _mac(secret, site, reference, expires)
    return f"{_VERSION}.{expires}.{_b64(reference.encode())}.{_b64(mac)}"


class LinkRefusal(StrEnum):
    """Why a link was refused: a closed list, counted on /metrics."""

    MALFORMED = "link_malformed"
    EXPIRED = "link_expired"
    TOO_LONG = "link_expiry_too_far"
    FORGED = "link_forged"
    NOT_CONFIGURED = "link_not_configured"


class LinkRefused(ConsentError):
    def __init__(self, reason: LinkRefusal, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def verify_link_token(secret: bytes, site: str, token: str, now: float) -> str:
    """The customer reference a valid token carries; ``LinkRefused`` saying why otherwise.

    The MAC is compared in constant time, and checked before the expiry is trusted.
    """
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
        raise LinkRefused(LinkRefusal.MALFORMED, "a link token is v1.<expiry>.<ref>.<mac>")
    try:
        reference = _unb64(parts[2]).decode("utf-8")
        mac = _unb64(parts[3])
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise LinkRefused(LinkRefusal.MALFORMED, "the reference or MAC is not base64url") from None
    if not 0 < len(reference) <= _REFERENCE_MAX or len(parts[1]) > 12:
        raise LinkRefused(LinkRefusal.MALFORMED, "the reference or expiry is out of bounds")
    expires = int(parts[1])
    if not hmac.compare_digest(mac, _mac(secret, site, reference, expires)):
        raise LinkRefused(LinkRefusal.FORGED, "the link token is not signed by this site")
    if expires <= now:
        raise LinkRefused(LinkRefusal.EXPIRED, "the link token has expired; sign a fresh one")
    if expires > now + MAX_LINK_SECONDS:
        raise LinkRefused(
            LinkRefusal.TOO_LONG, f"a link token may be valid for {MAX_LINK_SECONDS} s at most"
        )
    return reference


class CustomerLinks:
    """The ``customer_links`` table (migration 0019)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def record(
        self, site: str, visitor: str, customer: str, linked_at: datetime, retention_days: int
    ) -> None:
        self.record_many(site, [(visitor, customer, linked_at)], retention_days)

    def record_many(
        self, site: str, links: Sequence[tuple[str, str, datetime]], retention_days: int
    ) -> None:
        """Record (visitor key, customer key, linked at) links in one insert."""
        rows = [
            [site, visitor, customer, at, int(at.timestamp()) + retention_days * 86_400]
            for visitor, customer, at in links
        ]
        self.database.insert(
            "customer_links",
            rows,
            ("site", "visitor_key", "customer_key", "linked_at", "expires_at"),
        )

    def consenting_visitors(
        self, site: str, customers: Sequence[str], as_of: datetime
    ) -> dict[str, str]:
        """Customer key -> the visitor key it counts for: of the visitors linked to the
        customer that hold a current analytics grant at ``as_of``, the latest linked."""
        if not customers:
            return {}
        linked = (
            "SELECT visitor_key FROM customer_links WHERE site = {site:String} "
            "AND customer_key IN {customers:Array(String)}"
        )
        consenting = consented_sql(
            Purpose.ANALYTICS,
            f"site = {{site:String}} AND visitor_key IN ({linked})",
            "{as_of:DateTime64(3)}",
        )
        rows = self.database.rows(
            f"SELECT customer_key, argMax(visitor_key, linked_at) FROM customer_links FINAL "
            f"WHERE site = {{site:String}} AND customer_key IN {{customers:Array(String)}} "
            f"AND (site, visitor_key) IN ({consenting}) GROUP BY customer_key",
            {"site": site, "customers": list(customers), "as_of": as_of},
        )
        return {str(customer): str(visitor) for customer, visitor in rows}

    def visitors_of(self, site: str, customer: str) -> list[str]:
        """Every visitor key ever linked to a customer key (a deletion by reference)."""
        rows = self.database.rows(
            "SELECT DISTINCT visitor_key FROM customer_links WHERE site = {site:String} "
            "AND customer_key = {customer:String} ORDER BY 1",
            {"site": site, "customer": customer},
        )
        return [str(visitor) for (visitor,) in rows]
