"""What the ingest consent gate asks the consent ledger: a visitor's current choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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

    def allows_analytics(self, now: datetime) -> bool:
        return self.analytics and now < self.expires_at

    def allows_personalization(self, now: datetime) -> bool:
        return self.personalization and self.analytics and now < self.expires_at


class ConsentReader(Protocol):
    def current(self, site: str, visitor_key: str) -> ConsentState | None:
        """The visitor's current state, or None if they never decided (or were erased)."""
        ...
