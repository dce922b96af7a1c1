"""The wire contract of ``POST /api/events``: frozen models with a bound on every field.

Documented in docs/api.md and served as OpenAPI at /api/openapi.json.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from collector.wire_types import BrowserId, SiteId, WireModel

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "EventBatch",
    "EventIn",
    "EventType",
    "PropValue",
]

MAX_BODY_BYTES = 64 * 1024
MAX_EVENTS = 100
MAX_URL = 2000
MAX_PROPS = 20
MAX_ELEMENT_KEYS = 16

EventId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)]
PropKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]
PropText = Annotated[str, StringConstraints(max_length=200)]
# NaN, Infinity and numbers beyond float range (1e400) fail here: no validator needed.
PropNumber = Annotated[float, Field(allow_inf_nan=False)]
PropValue = bool | int | PropNumber | PropText
ElementKey = Annotated[
    str, StringConstraints(pattern=r"^(tag|id|role|sel|label|href|cs-[a-z0-9-]{1,32})$")
]
ElementText = Annotated[str, StringConstraints(max_length=MAX_URL)]
EventName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class EventType(StrEnum):
    PAGEVIEW = "pageview"
    CLICK = "click"
    OUTBOUND = "outbound"
    DOWNLOAD = "download"
    SCROLL = "scroll"
    ENGAGEMENT = "engagement"
    RAGE_CLICK = "rage_click"
    DEAD_CLICK = "dead_click"
    FORM_START = "form_start"
    FORM_SUBMIT = "form_submit"
    FORM_ABANDON = "form_abandon"
    STEP = "step"
    CUSTOM = "custom"


class EventIn(WireModel):
    id: EventId = Field(
        description="16 lowercase hex characters, random per event; kept across retries."
    )
    type: EventType
    ts: int = Field(ge=0, le=10**13, description="Milliseconds since the Unix epoch, client clock.")
    url: Url
    ref: Annotated[str, StringConstraints(max_length=MAX_URL)] | None = None
    name: EventName | None = Field(default=None, description="Custom event or funnel step name.")
    props: dict[PropKey, PropValue] = Field(default_factory=dict, max_length=MAX_PROPS)
    el: dict[ElementKey, ElementText] = Field(default_factory=dict, max_length=MAX_ELEMENT_KEYS)


class EventBatch(WireModel):
    site: SiteId
    visitor: BrowserId | None = Field(
        default=None,
        description="The browser id (22 characters base64url of 16 random bytes), only after an "
        "analytics grant; null otherwise.",
    )
    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class Envelope(WireModel):
    """The batch with its events unparsed: used to keep the valid events of a partly bad batch."""

    site: SiteId
    visitor: BrowserId | None = None
    # Any JSON value: an event that is not even an object is reported, not fatal.
    events: list[object] = Field(min_length=1, max_length=MAX_EVENTS)
