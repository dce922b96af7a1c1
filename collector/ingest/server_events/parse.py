"""A server-event body, event by event: JSON (``{"site", "events": [...]}``) or NDJSON (one
event per line, the site in the query string). An event that fails validation is
reported with its index and field errors; the others go on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, ValidationError

from collector.errors import RequestRefused
from collector.http_json import field_errors
from collector.ingest.server_events.kinds import KINDS, SERVER_EVENT, SERVER_EVENTS, ServerEvent
from collector.wire_types import SiteId, WireModel

__all__ = [
    "MAX_SERVER_BODY_BYTES",
    "MAX_SERVER_EVENTS",
    "NDJSON_TYPES",
    "ParsedBody",
    "ServerEventBatch",
    "event_errors",
    "parse_body",
]

MAX_SERVER_EVENTS = 1000
MAX_SERVER_BODY_BYTES = 1024 * 1024
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl")


class ServerEnvelope(WireModel):
    """A JSON body: the site, and its events unparsed (each is validated on its own)."""

    site: SiteId
    events: list[object] = Field(min_length=1, max_length=MAX_SERVER_EVENTS)


class ServerEventBatch(WireModel):
    """The JSON body as documented (``ServerEnvelope`` reads it; each event is checked
    on its own so that one bad event does not refuse the others)."""

    site: SiteId
    events: list[ServerEvent] = Field(min_length=1, max_length=MAX_SERVER_EVENTS)


@dataclass
class ParsedBody:
    site: str
    events: list[tuple[int, ServerEvent]] = field(default_factory=list)
    """The valid events with their index in the body (0-based; an NDJSON line is index + 1)."""
    errors: list[dict[str, Any]] = field(default_factory=list)


def event_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Field errors without the union's tag: ``customer``, not ``complaint.customer``."""
    found = field_errors(exc)
    for error in found:
        head, _, rest = error["field"].partition(".")
        if head in KINDS and rest:
            error["field"] = rest
    return found


def _one(parsed: ParsedBody, index: int, validate: Any, raw: Any) -> None:
    try:
        parsed.events.append((index, validate(raw)))
    except ValidationError as exc:
        parsed.errors.append({"index": index, "fields": event_errors(exc)})


def parse_body(body: bytes, media_type: str, site_in_query: str | None) -> ParsedBody:
    """Parse the body; ``RequestRefused`` (400) when it has no event to even look at."""
    if media_type in NDJSON_TYPES:
        return _ndjson(body, site_in_query)
    try:
        envelope = ServerEnvelope.model_validate_json(body)
    except ValidationError as exc:
        raise RequestRefused(400, {"error": "invalid", "fields": field_errors(exc)}) from None
    if site_in_query is not None and site_in_query != envelope.site:
        raise RequestRefused(
            400, {"error": "invalid", "detail": "?site= and the body's site differ"}
        )
    parsed = ParsedBody(envelope.site)
    try:  # the usual body, every event valid: one call into the validator
        every = SERVER_EVENTS.validate_python(envelope.events)
    except ValidationError:
        for index, raw in enumerate(envelope.events):
            _one(parsed, index, SERVER_EVENT.validate_python, raw)
    else:
        parsed.events = list(enumerate(every))
    return parsed


def _ndjson(body: bytes, site: str | None) -> ParsedBody:
    if not site:
        raise RequestRefused(
            400, {"error": "invalid", "detail": "an NDJSON body names its site in ?site=<id>"}
        )
    lines = [line for line in body.split(b"\n") if line.strip()]
    if not lines:
        raise RequestRefused(400, {"error": "invalid", "detail": "no event in the body"})
    if len(lines) > MAX_SERVER_EVENTS:
        raise RequestRefused(
            413, {"error": "too_large", "detail": f"at most {MAX_SERVER_EVENTS} events a request"}
        )
    parsed = ParsedBody(site)
    try:  # the usual body, every line valid: one call into the validator
        every = SERVER_EVENTS.validate_json(b"[" + b",".join(lines) + b"]")
    except ValidationError:
        pass  # some line is not: each is checked on its own, below
    else:
        parsed.events = list(enumerate(every))
        return parsed
    for index, line in enumerate(lines):
        if line.lstrip()[:1] != b"{":
            error = {"field": "(line)", "error": "each line is one JSON object"}
            parsed.errors.append({"index": index, "fields": [error]})
            continue
        _one(parsed, index, SERVER_EVENT.validate_json, line)
    return parsed
