"""A site's touchpoints beyond the browser: the kinds its own systems send, the secret it
proves customer links with, and any lawful basis it declares for a kind besides consent."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr, field_validator

from clearsignal.purposes import LawfulBasis
from clearsignal.settings._base import SettingsModel

__all__ = ["ApiScope", "ServerKind", "TouchpointSettings"]


class ServerKind(StrEnum):
    """The closed set of server-event kinds (their wire models:
    ``collector.ingest.server_events.kinds``)."""

    ORDER = "order"
    SUBSCRIPTION = "subscription"
    CONTACT = "contact"
    COMPLAINT = "complaint"
    SLA_BREACH = "sla_breach"
    HANDOVER = "handover"
    SCORE = "score"


class ApiScope(StrEnum):
    """What an API key may do besides sending the kinds it names (``collector.api_keys``)."""

    CASES = "cases"  # read the site's cases and record what its team did
    STATS = "stats"  # read the site's analytics (the Stats API), nothing else


class TouchpointSettings(SettingsModel):
    link_secret: SecretStr | None = Field(
        default=None,
        description="The secret the site's backend signs customer link tokens with "
        "(at least 32 characters). Without it no browser can be linked to a customer.",
    )
    lawful_bases: dict[ServerKind, LawfulBasis] = Field(
        default_factory=dict,
        description="Kinds the site stores on another lawful basis than the visitor's "
        "consent (GDPR Art. 6(1)); they appear in the record of processing. Any other kind "
        "counts only for a linked visitor with a current analytics grant.",
    )

    @field_validator("link_secret")
    @classmethod
    def _secret_long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("lawful_bases")
    @classmethod
    def _not_consent(cls, value: dict[ServerKind, LawfulBasis]) -> dict[ServerKind, LawfulBasis]:
        for kind, basis in value.items():
            if basis == LawfulBasis.CONSENT:
                raise ValueError(f"{kind}: consent is every kind's basis already; name another")
        return value
