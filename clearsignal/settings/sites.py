"""A site's settings: its origins, purposes and notice, page kinds, thresholds, webhook."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, StringConstraints, field_validator

from clearsignal.purposes import LawfulBasis, Purpose
from clearsignal.settings._base import Origin, SettingsModel, SiteId
from clearsignal.settings.response import ResponseSettings
from clearsignal.settings.touchpoints import TouchpointSettings

__all__ = [
    "DEFAULT_PURPOSES",
    "NoticeSettings",
    "PageSettings",
    "PurposeSettings",
    "SiteSettings",
    "WebhookSettings",
]


class PurposeSettings(SettingsModel):
    id: Purpose
    lawful_basis: LawfulBasis
    description: str = Field(min_length=1, max_length=2000)


DEFAULT_PURPOSES: tuple[PurposeSettings, ...] = (
    PurposeSettings(
        id=Purpose.MEASUREMENT,
        lawful_basis=LawfulBasis.LEGITIMATE_INTEREST,
        description=(
            "Anonymous counting of page views and clicks. The identifier is a keyed hash "
            "of a daily salt, the site, the network address and the browser string; the salt "
            "is destroyed after 48 hours, so visits cannot be linked across days."
        ),
    ),
    PurposeSettings(
        id=Purpose.ANALYTICS,
        lawful_basis=LawfulBasis.CONSENT,
        description=(
            "Behavioural signals about how you use this site (for example repeated visits "
            "to the pricing page), linked to a random identifier kept in your browser."
        ),
    ),
    PurposeSettings(
        id=Purpose.PERSONALIZATION,
        lawful_basis=LawfulBasis.CONSENT,
        description=(
            "Using those signals while you browse, to adapt the site or offer help "
            "(for example explaining shipping costs)."
        ),
    ),
)


class NoticeSettings(SettingsModel):
    uri: str = Field(min_length=1, max_length=2000)
    version: str = Field(min_length=1, max_length=64)
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    text: str = Field(min_length=1, max_length=100_000)


PathPattern = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PageSettings(SettingsModel):
    """Which pages are which, as shell-style patterns on the URL path (``*`` any run)."""

    pricing: list[PathPattern] = Field(default_factory=lambda: ["*/pricing*"])
    help: list[PathPattern] = Field(default_factory=lambda: ["*/faq*", "*/help*"])
    contact: list[PathPattern] = Field(default_factory=lambda: ["*/contact*", "*/complaint*"])
    checkout: list[PathPattern] = Field(default_factory=lambda: ["*/checkout*"])
    shipping: list[PathPattern] = Field(default_factory=lambda: ["*/checkout/shipping*"])
    purchase: list[PathPattern] = Field(
        default_factory=lambda: ["*/checkout/complete*", "*/order-confirmed*"]
    )


StepName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WebhookSettings(SettingsModel):
    """Where to tell a site, server to server, that a visitor who allowed personalization
    gained a signal. Each delivery is signed with HMAC-SHA256 under ``secret``."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)]
    secret: SecretStr = Field(description="Shared signing secret, at least 32 characters.")
    max_attempts: int = Field(default=8, ge=1, le=20)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("secret")
    @classmethod
    def _secret_long(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value


class SiteSettings(SettingsModel):
    id: SiteId
    name: str = Field(default="", max_length=200)
    allowed_origins: list[Origin] = Field(min_length=1)
    purposes: list[PurposeSettings] = Field(default_factory=lambda: list(DEFAULT_PURPOSES))
    strict: bool = Field(
        default=False,
        description="Require consent even for anonymous measurement.",
    )
    notice: NoticeSettings
    retention_days: int = Field(default=180, ge=1, le=3650)
    k_anonymity: int = Field(default=10, ge=2, le=10_000)
    query_allowlist: list[str] = Field(default_factory=lambda: ["utm_*"])
    pages: PageSettings = PageSettings()
    signal_thresholds: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per rule id, thresholds that override the rule's defaults.",
    )
    controller: str = Field(default="", max_length=500)
    contact: str = Field(
        default="",
        max_length=500,
        description="How to reach the controller or its data protection officer.",
    )
    recipients: list[str] = Field(
        default_factory=lambda: ["none: the data stays on the controller's own ClearSignal"],
        description="Who receives the personal data (GDPR Art. 30(1)(d)).",
    )
    funnel: list[StepName] = Field(
        default_factory=lambda: ["cart", "shipping", "payment", "purchase"],
        max_length=20,
        description="The funnel's steps in order, as the names of `step` events.",
    )
    goal: StepName = Field(
        default="purchase",
        description="The step event (or, for 'purchase', also a purchase page) that counts "
        "as reaching the site's goal in the validation report.",
    )
    webhook: WebhookSettings | None = None
    touchpoints: TouchpointSettings = TouchpointSettings()
    response: ResponseSettings = ResponseSettings()

    @field_validator("purposes")
    @classmethod
    def _purposes_unique(cls, value: list[PurposeSettings]) -> list[PurposeSettings]:
        ids = [p.id for p in value]
        if len(set(ids)) != len(ids):
            raise ValueError("each purpose may be listed once")
        return value

    @field_validator("funnel")
    @classmethod
    def _steps_unique(cls, value: list[str]) -> list[str]:
        # A step's place in the funnel is how far a visitor got, and a step earlier than the
        # last one taken is a step back (aggregator.signals.effort): each has one place.
        if len(set(value)) != len(value):
            raise ValueError("each step may be in the funnel once")
        return value

    def purpose(self, purpose: Purpose) -> PurposeSettings | None:
        return next((p for p in self.purposes if p.id == purpose), None)
