"""``POST /api/events``: parse at the edge, run the pipeline, spool, answer 202.

Answers: 202 ``{"accepted": n, "dropped": {reason: count}}`` (with ``errors`` for events
that were malformed while others in the batch were valid); 400 with field errors when
nothing in the body is usable; 413 over the body limit; 403 unknown site or origin;
429 rate limited (with Retry-After); 503 if the spool cannot write.

The endpoint is a plain ASGI application, and the one path every browser calls: the app
hands it POSTs before its middleware stack (``collector.app.CollectorApp``), so it adds
its own CORS headers (``collector.cors.SiteOrigins``). It reads the headers it needs in
one pass and answers with prepared header lists, without ``Request`` and ``Response``
objects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from collector.cors import SiteOrigins
from collector.errors import RequestRefused
from collector.http_json import field_errors, receive_body
from collector.ingest.drops import DropReason, Rejection
from collector.ingest.metrics import UNKNOWN_SITE_LABEL, IngestTally
from collector.ingest.pipeline import IngestPipeline, RequestFacts
from collector.ingest.spool import Spool
from collector.ingest.wire import MAX_BODY_BYTES, Envelope, EventBatch, EventIn
from collector.state import lifespan_state

__all__ = ["INGEST_PATH", "IngestEndpoint", "Ingestor"]

INGEST_PATH = "/api/events"

log = logging.getLogger("clearsignal.ingest")

# The request headers the endpoint reads; everything else is ignored.
_WANTED = frozenset(
    {b"content-type", b"content-length", b"user-agent", b"origin", b"referer", b"sec-gpc", b"dnt"}
)
_JSON = (b"content-type", b"application/json")
_RETRY_AFTER = (b"retry-after", b"1")


class IngestEndpoint:
    """The route's endpoint: hands each request to the ``Ingestor`` that the app's
    lifespan builds once the store and spool are open (in its state, under ``STATE``)."""

    STATE = "ingestor"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await lifespan_state(scope, self.STATE, Ingestor)(scope, receive, send)


class _Outcome(NamedTuple):
    status: int
    answer: dict[str, Any]
    site: str | None = None
    """The site the body named, for the CORS headers."""
    durable: asyncio.Future[None] | None = None
    """With rows to store: done once the spool has them on disk."""


@dataclass
class Ingestor:
    pipeline: IngestPipeline
    spool: Spool
    tally: IngestTally
    origins: SiteOrigins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {
            name: value.decode("latin-1") for name, value in scope["headers"] if name in _WANTED
        }
        try:
            body = await receive_body(
                headers.get(b"content-type"),
                headers.get(b"content-length"),
                receive,
                MAX_BODY_BYTES,
            )
        except RequestRefused as exc:
            outcome = _Outcome(exc.status, exc.body)
        except ClientDisconnect:
            return  # nobody to answer; nothing was spooled
        else:
            outcome = self._ingest(scope, headers, body)
        status, answer, site, durable = outcome
        if durable is not None:
            try:
                await durable
            except OSError as exc:
                log.error("spool write failed: %s", exc)
                status, answer = 503, {"error": "spool_unavailable", "detail": "retry later"}
            else:
                assert site is not None  # rows come from a parsed batch, which names its site
                self.tally.count_accepted(site, answer["accepted"])
        encoded = orjson.dumps(answer)
        response_headers = [
            _JSON,
            (b"content-length", b"%d" % len(encoded)),
            *self.origins.response_headers(site, headers.get(b"origin")),
        ]
        if status == 429:
            response_headers.append(_RETRY_AFTER)
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": encoded})
        self.tally.observe(status, time.perf_counter() - started)

    def _ingest(self, scope: Scope, headers: dict[bytes, str], body: bytes) -> _Outcome:
        """Parse, run the pipeline and queue the rows on the spool.

        Synchronous on purpose: the batch, its events and rows are gone once it returns,
        so a request waiting for its fsync holds no objects the garbage collector visits.
        """
        try:
            batch, invalid = self._parse(body)
        except RequestRefused as exc:
            return _Outcome(exc.status, exc.body)
        site = batch.site
        client = scope.get("client")
        facts = RequestFacts(
            ip=client[0] if client else "",
            user_agent=headers.get(b"user-agent", ""),
            origin=headers.get(b"origin"),
            referer=headers.get(b"referer"),
            privacy_signal=headers.get(b"sec-gpc") == "1" or headers.get(b"dnt") == "1",
            received_ms=int(self.pipeline.clock() * 1000),
        )
        try:
            rows, ctx = self.pipeline.process(batch, facts)
        except Rejection as rejection:
            label = site if site in self.pipeline.sites else UNKNOWN_SITE_LABEL
            self.tally.count_dropped(label, rejection.reason, rejection.events)
            refusal = {"error": rejection.reason.value, "detail": rejection.message}
            return _Outcome(rejection.status, refusal, site)
        if invalid:
            ctx.drop(DropReason.INVALID, len(invalid))
        dropped = {reason.value: count for reason, count in ctx.dropped.items()}
        for reason, count in ctx.dropped.items():
            self.tally.count_dropped(site, reason, count)
        answer: dict[str, Any] = {"accepted": len(rows), "dropped": dropped}
        if invalid:
            answer["errors"] = invalid
        return _Outcome(202, answer, site, self.spool.append(rows) if rows else None)

    def _parse(self, body: bytes) -> tuple[EventBatch, list[dict[str, Any]]]:
        """The batch of valid events, and the errors of the invalid ones."""
        try:
            return EventBatch.model_validate_json(body), []
        except ValidationError as exc:
            whole = field_errors(exc)
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError:
            raise RequestRefused(400, {"error": "invalid", "fields": whole}) from None
        valid: list[EventIn] = []
        invalid: list[dict[str, Any]] = []
        for index, raw in enumerate(envelope.events):
            try:
                valid.append(EventIn.model_validate(raw))
            except ValidationError as exc:
                invalid.append({"index": index, "fields": field_errors(exc, ("events", index))})
        if not valid:
            raise RequestRefused(400, {"error": "invalid", "fields": whole})
        batch = EventBatch(site=envelope.site, visitor=envelope.visitor, events=valid)
        return batch, invalid
