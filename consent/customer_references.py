"""A customer's own reference at the site, kept sealed for the site's team while the
customer allows personalization.

A case in the team's inbox must say who to reach in the site's own systems, yet no
customer reference is stored in the clear. When a signed-in page links a browser whose
current consent grants personalization, the collector, which sees the reference in the
site-signed link token, stores it sealed (``consent.sealing``: AES-256-GCM under a key
derived from the site key, bound to the site and customer key) in
``customer_references``, keyed like the link by visitor and customer key. Only the
inbox and the cases API open it. Without a personalization grant nothing is stored; a
visitor who withdraws it loses the row (the cases job deletes it, erasure deletes it with
everything else), and it expires with the site's retention.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from consent.database import Database
from consent.sealing import CUSTOMER_REFERENCE, Sealer, SealError

__all__ = ["CustomerReferences"]

_COLUMNS = ("site", "visitor_key", "customer_key", "sealed", "recorded_at", "expires_at")


def _row(site: str, customer_key: str) -> bytes:
    return f"{site}\n{customer_key}".encode()


class CustomerReferences:
    def __init__(self, database: Database, site_key: bytes) -> None:
        self.database = database
        self._sealer = Sealer(site_key, CUSTOMER_REFERENCE)

    def record(
        self,
        site: str,
        visitor_key: str,
        customer_key: str,
        reference: str,
        at: datetime,
        retention_days: int,
    ) -> None:
        self.record_many(site, [(visitor_key, customer_key, reference, at)], retention_days)

    def record_many(
        self,
        site: str,
        references: Sequence[tuple[str, str, str, datetime]],
        retention_days: int,
    ) -> None:
        """Keep (visitor key, customer key, reference, at) sealed, in one insert."""
        rows = [
            [site, visitor, customer, self._sealer.seal(reference, _row(site, customer)), at,
             int(at.timestamp()) + retention_days * 86_400]
            for visitor, customer, reference, at in references
        ]  # fmt: skip
        if rows:
            self.database.insert("customer_references", rows, _COLUMNS)

    def opened(self, site: str, customer_keys: Iterable[str]) -> dict[str, str]:
        """Customer key -> its reference, the latest sealed of each; a row that does not
        open (another key, damaged) is left out."""
        keys = sorted(set(customer_keys))
        if not keys:
            return {}
        rows = self.database.rows(
            "SELECT customer_key, argMax(sealed, recorded_at) FROM customer_references "
            "WHERE site = {site:String} AND customer_key IN {keys:Array(String)} "
            "GROUP BY customer_key",
            {"site": site, "keys": keys},
        )
        found: dict[str, str] = {}
        for customer_key, sealed in rows:
            try:
                found[str(customer_key)] = self._sealer.open(str(sealed), _row(site, customer_key))
            except SealError:
                continue
        return found
