"""The purposes ClearSignal processes data for, and the lawful bases they rest on.

The settings name them (a site's purposes and their bases) and the consent package
enforces them, so the vocabulary sits in the ground package both may import.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["LawfulBasis", "Purpose"]


class Purpose(StrEnum):
    MEASUREMENT = "measurement"  # anonymous counts; a daily salted hash, no consent needed
    ANALYTICS = "analytics"  # behavioural signals, linked to a browser id; consent
    PERSONALIZATION = "personalization"  # those signals used to adapt the site; consent


class LawfulBasis(StrEnum):
    """GDPR Art. 6(1) bases that ClearSignal's purposes can rest on."""

    CONSENT = "consent"  # Art. 6(1)(a)
    CONTRACT = "contract"  # Art. 6(1)(b): needed to perform a contract with the person
    LEGAL_OBLIGATION = "legal_obligation"  # Art. 6(1)(c)
    LEGITIMATE_INTEREST = "legitimate_interest"  # Art. 6(1)(f)
