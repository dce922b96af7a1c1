"""A visitor's current choices, as the ingest consent gate asks the consent ledger for them.

The rule in Python; ``consent.queries`` is the same rule in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

__all__ = ["ConsentReader", "ConsentState"]


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The latest decision of one visitor on one site."""

    analytics: bool
    personalization: bool
    recorded_at: datetime
    expires_at: datetime
    receipt_id: str

    def in_force(self, now: datetime) -> bool:
        """A decision holds until it expires; then the visitor is asked again."""
        return now < self.expires_at

    def allows_analytics(self, now: datetime) -> bool:
        return self.analytics and self.in_force(now)

    def allows_personalization(self, now: datetime) -> bool:
        return self.personalization and self.analytics and self.in_force(now)


class ConsentReader(Protocol):
    def current(self, site: str, visitor_key: str) -> ConsentState | None:
        """The visitor's current state, or None if they never decided (or were erased)."""
        ...

    def cached(self, site: str, visitor_key: str) -> ConsentState | Enum | None:
        """``current``'s answer if known without the store, else the ledger's ``UNKNOWN``."""
        ...
