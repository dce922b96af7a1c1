"""The wire contract of the consent endpoints: frozen models with a bound on every field."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from collector.visitor.tcf import MAX_TC_STRING, decode_tc_string
from collector.wire_types import BrowserId, SiteId, WireModel

__all__ = ["MAX_CONSENT_BODY", "ConsentIn", "ConsentMethod", "PurposeChoices", "VisitorIn"]

MAX_CONSENT_BODY = 8 * 1024  # room for the longest TC string

GcmKey = Literal[
    "ad_storage",
    "analytics_storage",
    "ad_user_data",
    "ad_personalization",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
]
"""Google Consent Mode's documented consent types; no other key reaches the log."""


def _tc_string(text: str) -> str:
    decode_tc_string(text)  # raises TcfStringError, a ValueError: a field error
    return text


TcString = Annotated[str, StringConstraints(max_length=MAX_TC_STRING), AfterValidator(_tc_string)]


class ConsentMethod(StrEnum):
    BANNER = "banner"  # the site's own banner
    PAGE = "page"  # the visitor's data explanation page (/me)
    API = "api"  # the site called clearsignal.consent() after its own dialog
    CMP = "cmp"  # a consent management platform (TCF, Google Consent Mode)
    GPC = "gpc"  # the browser's Global Privacy Control signal: always a denial


class PurposeChoices(WireModel):
    analytics: bool
    personalization: bool = False


class VisitorIn(WireModel):
    site: SiteId
    visitor: BrowserId


class ConsentIn(VisitorIn):
    purposes: PurposeChoices
    notice_version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    method: ConsentMethod = ConsentMethod.API
    client_ts: Annotated[int, Field(ge=0, le=10**14)] | None = None  # ms since the epoch
    tcf: TcString | None = Field(
        default=None, description="The CMP's IAB TCF v2 TC string, well-formed (never free text)."
    )
    gcm: Annotated[dict[GcmKey, Literal["granted", "denied"]], Field(max_length=7)] | None = None
