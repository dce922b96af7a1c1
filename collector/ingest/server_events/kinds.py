"""The closed, versioned set of server-event kinds (version 1): the wire contract of
``POST /api/server-events`` and ``clearsignal import server-events``.

Every field is an id, a category, an amount, a count or a status, each with a pattern or
a bound: nothing takes free text, names or e-mail addresses. A category or id with a
space or an ``@`` in it, or a field a kind does not have (``note``, ``email``), is
refused with a field error naming it; it is never silently dropped. docs/api.md lists
the kinds; /api/openapi.json has their schemas.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import CoreSchema, core_schema

from clearsignal.settings import ServerKind
from collector.wire_types import WireModel

__all__ = [
    "KINDS",
    "SCORE_RANGES",
    "SERVER_EVENT",
    "SERVER_EVENTS",
    "Complaint",
    "Contact",
    "Handover",
    "Order",
    "Score",
    "ServerEvent",
    "SlaBreach",
    "Subscription",
]

VERSION: Literal[1] = 1
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


def _epoch_ms(value: str) -> int:
    try:
        return int(datetime.fromisoformat(value).timestamp() * 1000)
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time that exists") from None


def _event_time_schema(source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
    """RFC 3339 text with an offset (its form checked by the validator's own regex, not a
    Python call), then milliseconds since the epoch. Nothing else: a bare number could be
    seconds or milliseconds."""
    return core_schema.chain_schema(
        [
            core_schema.custom_error_schema(
                core_schema.str_schema(pattern=RFC3339),
                custom_error_type="rfc3339",
                custom_error_message="an RFC 3339 time with a UTC offset, e.g. "
                "2026-12-06T10:15:00Z",
            ),
            core_schema.no_info_plain_validator_function(_epoch_ms),
        ]
    )


EventTime = Annotated[
    int,
    GetPydanticSchema(_event_time_schema),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "When it happened: RFC 3339 with a UTC offset, e.g. "
            "2026-12-06T10:15:00Z.",
        }
    ),
]
Category = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$"),
    Field(description="A category from the site's own closed list: lowercase, no spaces."),
]
RecordId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"),
    Field(description="An id in the site's own system (an order, a ticket): no spaces, no @."),
]
CustomerRef = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"),
    Field(
        description="The site's customer reference (never an e-mail address); stored only "
        "as HMAC(site key, reference)."
    ),
]
EventId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"),
    Field(description="Unique per event in the site's systems; a resent event is stored once."),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217")]
Money = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


class _Common(WireModel):
    v: Literal[1] = Field(default=VERSION, description="The kinds' version.")
    id: EventId
    customer: CustomerRef
    at: EventTime


class Order(_Common):
    kind: Literal["order"]
    action: Literal["placed", "cancelled", "refunded"]
    order: RecordId | None = None
    value: Money
    currency: Currency
    items: int = Field(ge=0, le=100_000)


class Subscription(_Common):
    kind: Literal["subscription"]
    action: Literal["started", "upgraded", "downgraded", "cancelled"]
    plan: Category
    recurring_value: Money
    currency: Currency
    interval: Literal["month", "year"] = "month"


class Contact(_Common):
    """A support contact: a ticket opened, escalated, reopened or resolved."""

    kind: Literal["contact"]
    action: Literal["opened", "escalated", "reopened", "resolved"]
    ticket: RecordId
    channel: Literal["email", "phone", "chat", "web", "social", "in_person"]
    topic: Category
    first_contact_resolution: bool | None = Field(
        default=None, description="Only on 'resolved': solved without a further contact."
    )

    @model_validator(mode="after")
    def _resolution_only_when_resolved(self) -> Contact:
        if self.first_contact_resolution is not None and self.action != "resolved":
            raise ValueError("first_contact_resolution belongs to a 'resolved' contact")
        return self


class Complaint(_Common):
    kind: Literal["complaint"]
    action: Literal["filed", "resolved"] = "filed"
    category: Category
    ticket: RecordId | None = None


class SlaBreach(_Common):
    kind: Literal["sla_breach"]
    action: Literal["breached"] = "breached"
    commitment: Category = Field(description="Which commitment, e.g. first_response_4h.")
    over_minutes: float = Field(ge=0, le=525_600, allow_inf_nan=False)
    ticket: RecordId | None = None


class Handover(_Common):
    kind: Literal["handover"]
    action: Literal["handed_over"] = "handed_over"
    ticket: RecordId
    count: int = Field(default=1, ge=1, le=100)


SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class Score(_Common):
    """An explicit answer (NPS, CSAT or CES), beside the implicit signals."""

    kind: Literal["score"]
    action: Literal["answered"] = "answered"
    survey: Literal["nps", "csat", "ces"]
    value: int
    touchpoint: Category | None = None

    @model_validator(mode="after")
    def _in_range(self) -> Score:
        low, high = SCORE_RANGES[self.survey]
        if not low <= self.value <= high:
            raise ValueError(f"a {self.survey} answer is from {low} to {high}")
        return self


ServerEvent = Annotated[
    Order | Subscription | Contact | Complaint | SlaBreach | Handover | Score,
    Field(discriminator="kind"),
]
SERVER_EVENT: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)
SERVER_EVENTS: TypeAdapter[list[ServerEvent]] = TypeAdapter(list[ServerEvent])
KINDS: tuple[str, ...] = tuple(kind.value for kind in ServerKind)
