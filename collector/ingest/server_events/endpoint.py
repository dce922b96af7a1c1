"""``POST /api/server-events``: a site's backends send what its own systems saw.

Authenticated by an API key of the site (``Authorization: Bearer cs_sk_…``,
``collector.api_keys``), scoped to the kinds it may send. The body is JSON
(``{"site", "events"}``) or NDJSON (``?site=<id>``, one event a line), at most
``MAX_SERVER_EVENTS`` events and 1 MiB. Each event is checked on its own
(``parse``): its kind against the key's scope, its id against the batch, its time
against the site's retention and the clock. The valid ones become rows, keyed by the
customer's pseudonym, and are on disk in their own spool before the answer; the writer
(``writer``) joins them to a consenting visitor.

Answers: 202 ``{"accepted", "dropped", "errors"?}``; 400 nothing valid; 401 no valid key;
403 a key of another site, or an unknown site; 413 too large; 415 media type; 429 the
site's rate, or too many failed keys from one network address (Retry-After); 503 when
the spool cannot write, or a key cannot be checked because the store does not answer.
Parsing runs in a lane of its own: a flood of large batches never holds the event loop
that browsers' events are answered on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from clearsignal.settings import Settings, SiteSettings
from collector.api_auth import BearerKeys
from collector.api_keys import ApiKey, ApiKeys
from collector.errors import RequestRefused
from collector.http_json import json_response, media_type_of, receive_body
from collector.ingest.drops import DropReason
from collector.ingest.metrics import UNKNOWN_SITE_LABEL, IngestTally
from collector.ingest.server_events.batch import RowBatch, batch_rows
from collector.ingest.server_events.parse import (
    MAX_SERVER_BODY_BYTES,
    NDJSON_TYPES,
    ParsedBody,
    parse_body,
)
from collector.ingest.spool import Spool
from collector.lanes import Lane
from collector.rate_limit import RateLimiter
from collector.state import lifespan_state
from consent.pseudonyms import SiteKeys

__all__ = [
    "NO_STORE",
    "SERVER_EVENTS_PATH",
    "SERVER_EVENTS_STATE",
    "ServerEventIngestor",
    "post_server_events",
]

SERVER_EVENTS_PATH = "/api/server-events"
SERVER_EVENTS_STATE = "server_events"
ACCEPTED = ("application/json", *NDJSON_TYPES)
NO_STORE = {"Cache-Control": "no-store"}
log = logging.getLogger("clearsignal.ingest")


@dataclass
class ServerEventIngestor:
    settings: Settings
    keys: ApiKeys
    site_keys: SiteKeys
    spool: Spool
    tally: IngestTally
    lane: Lane = field(default_factory=lambda: Lane("server-events", workers=1, queue=16))
    bearer: BearerKeys = field(init=False)
    limits: RateLimiter = field(init=False)
    """Events per site, from ``ingest.site_server_events_per_second``."""

    def __post_init__(self) -> None:
        self.bearer = BearerKeys(self.keys)
        ingest = self.settings.ingest
        self.limits = RateLimiter(ingest.site_server_events_per_second, ingest.site_server_burst)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            status, answer, site = await self._answer(request)
        except RequestRefused as exc:
            status, answer, site = exc.status, exc.body, None
        headers = dict(NO_STORE)
        if status == 429:
            headers["Retry-After"] = "1"
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if status == 202 and site is not None:
            self.tally.count_accepted(site, answer["accepted"])
        self.tally.observe(status, time.perf_counter() - started)
        return json_response(status, answer, headers)

    async def authenticated(self, request: Request) -> ApiKey:
        """The request's active API key; ``RequestRefused`` (401, 429 or 503) otherwise."""
        try:
            return await self.bearer.key(request)
        except RequestRefused as refused:
            if refused.status == 401:
                self.tally.count_dropped(UNKNOWN_SITE_LABEL, DropReason.INVALID_API_KEY, 1)
            raise

    async def _answer(self, request: Request) -> tuple[int, dict[str, Any], str | None]:
        key = await self.authenticated(request)
        headers = request.headers
        body = await receive_body(
            headers.get("content-type"),
            headers.get("content-length"),
            request.receive,
            MAX_SERVER_BODY_BYTES,
            ACCEPTED,
        )
        if self.lane.full:
            raise RequestRefused(429, {"error": "busy", "detail": "too many batches; retry later"})
        media_type = media_type_of(headers.get("content-type"))
        parsed, site, batch = await self.lane.run(
            self._prepare, body, media_type, request.query_params.get("site"), key
        )
        if site is None:  # the body names a site the key is not for: refused here
            site = self.site_for_key(key, parsed.site, len(parsed.events) + len(parsed.errors))
        if self.limits.available(site.id) < len(parsed.events):
            self.tally.count_dropped(site.id, DropReason.RATE_LIMITED, len(parsed.events))
            raise RequestRefused(
                429, {"error": "rate_limited", "detail": f"site {site.id!r} is over its rate"}
            )
        self.limits.take(site.id, len(parsed.events))
        for reason, count in batch.dropped.items():
            self.tally.count_dropped(site.id, reason, count)
        if parsed.errors:
            self.tally.count_dropped(site.id, DropReason.INVALID, len(parsed.errors))
        if not parsed.events:
            return 400, {"error": "invalid", "errors": parsed.errors}, None
        if parsed.errors:
            batch.dropped[DropReason.INVALID] = len(parsed.errors)
        errors = parsed.errors + batch.errors
        if batch.rows:
            try:
                await self.spool.append(batch.rows)
            except OSError as exc:
                log.error("server-event spool write failed: %s", exc)
                raise RequestRefused(
                    503, {"error": "spool_unavailable", "detail": "retry later"}
                ) from None
        answer: dict[str, Any] = {
            "accepted": len(batch.rows),
            "dropped": {reason.value: count for reason, count in batch.dropped.items()},
        }
        if errors:
            answer["errors"] = sorted(errors, key=lambda error: error["index"])
        return 202, answer, site.id

    def _prepare(
        self, body: bytes, media_type: str, site_in_query: str | None, key: ApiKey
    ) -> tuple[ParsedBody, SiteSettings | None, RowBatch]:
        """In the lane: the body parsed and, for a site of the key, its rows."""
        parsed = parse_body(body, media_type, site_in_query)
        site = self._site_of(key, parsed.site)
        if site is None:
            return parsed, None, RowBatch()
        received_ms = int(time.time() * 1000)
        site_key = self.site_keys.key(site.id)
        batch = batch_rows(site, site_key, parsed.events, key.kinds, received_ms, "api")
        return parsed, site, batch

    def _site_of(self, key: ApiKey, named: str) -> SiteSettings | None:
        site = self.settings.site(named)
        return site if site is not None and key.site == site.id else None

    def site_for_key(self, key: ApiKey, named: str, events: int = 0) -> SiteSettings:
        """The site ``named`` when ``key`` is one of its keys; else ``RequestRefused``
        (403: an unknown site, or a key of another), with ``events`` counted as dropped."""
        site = self._site_of(key, named)
        if site is not None:
            return site
        known = self.settings.site(named) is not None
        label = named if known else UNKNOWN_SITE_LABEL
        reason = DropReason.KEY_NOT_FOR_SITE if known else DropReason.UNKNOWN_SITE
        if events:
            self.tally.count_dropped(label, reason, events)
        raise RequestRefused(
            403, {"error": reason.value, "detail": f"this key is not for site {named!r}"}
        )


async def post_server_events(request: Request) -> Response:
    return await lifespan_state(request, SERVER_EVENTS_STATE, ServerEventIngestor).handle(request)
