"""A site's response to its signals: which rules open a case for the team, how they weigh,
and the resolution target the team is measured against (docs/response.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from clearsignal.settings._base import SettingsModel
from clearsignal.settings.mail import EmailAddress

__all__ = ["DEFAULT_ACTIONABLE", "ResponseSettings", "RuleId"]

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

DEFAULT_ACTIONABLE: dict[str, float] = {
    "churn_risk": 3.0,
    "repeated_complaints": 2.0,
    "unresolved_repeat_contact": 2.0,
    "escalation": 2.0,
    "service_failure": 1.5,
    "high_effort": 1.0,
}
"""The rules about a customer who asked for help or is about to leave: a person of the
site's team can do something about each. Browser-only rules (price uncertainty, rage
clicks) stay aggregates unless a site names them."""


class ResponseSettings(SettingsModel):
    actionable: dict[RuleId, Annotated[float, Field(gt=0, le=100)]] = Field(
        default_factory=lambda: dict(DEFAULT_ACTIONABLE),
        description="Rule id -> priority weight. A finding of one of these rules, for a "
        "customer whose linked visitor allows personalization, opens a case in the inbox; "
        "an empty table opens none.",
    )
    target_hours: int = Field(
        default=24, ge=1, le=24 * 14, description="A case counts as answered in time when "
        "resolved within this many hours of opening."
    )  # fmt: skip
    target_share: float = Field(
        default=0.9, gt=0, le=1, description="The share of cases the team aims to resolve "
        "within target_hours (90% by default)."
    )  # fmt: skip
    note_chars: int = Field(default=500, ge=0, le=2000, description="A case note's length.")
    notify: list[EmailAddress] = Field(
        default_factory=list, max_length=50, description="Who gets the weekly digest and the "
        "alerts by e-mail (through [mail]); alerts also go to the site's webhook."
    )  # fmt: skip
    alert_thresholds: dict[RuleId, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict, description="Rule id -> a share of identified visitors: an "
        "alert when the last seven days reach it, besides the anomaly against the four "
        "weeks before (docs/response.md)."
    )  # fmt: skip
    digest_weekday: int = Field(
        default=0, ge=0, le=6, description="The day the weekly digest goes out (0 Monday), "
        "after 06:00 UTC, covering the seven days before."
    )  # fmt: skip
