"""Why an event was not stored: a closed list, counted per reason and site on /metrics
(browser events and server events, each under their own metric names)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DropReason", "Rejection"]


class DropReason(StrEnum):
    UNKNOWN_SITE = "unknown_site"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    BOT = "bot"
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    TOO_OLD = "too_old"
    IN_FUTURE = "in_future"
    NO_CONSENT = "no_consent"
    TOO_LARGE = "too_large"  # past the request's budget of text to scrub
    # server events (POST /api/server-events)
    INVALID_API_KEY = "invalid_api_key"  # missing, unknown, mistyped or revoked
    KEY_NOT_FOR_SITE = "key_not_for_site"  # the key belongs to another site
    OUT_OF_SCOPE = "out_of_scope"  # the key may not send this kind


class Rejection(Exception):
    """The whole request is refused: every event in it is dropped for ``reason``."""

    def __init__(self, status: int, reason: DropReason, message: str, events: int) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.events = events
