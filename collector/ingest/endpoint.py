"""``POST /api/events``: parse at the edge, run the pipeline, spool, answer 202.

Answers: 202 ``{"accepted": n, "dropped": {reason: count}}`` (with ``errors`` for events
that were malformed while others in the batch were valid); 400 with field errors when
nothing in the body is usable; 413 over the body limit; 403 unknown site or origin;
429 rate limited, or busy with large batches (with Retry-After); 503 only if the spool
cannot write to its disk. Never a 5xx because the store is down: the pipeline never
waits for it (``collector.ingest.consent_lookup``).

Most requests are finished on the event loop in one synchronous call. Two kinds wait:
a large body is parsed and scrubbed in the heavy lane (``Ingestor.heavy``), and a browser id
whose consent is not in the ledger's cache is looked up off the loop first.

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
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from collector.client_address import address_key, peer_address
from collector.cors import SiteOrigins
from collector.errors import RequestRefused
from collector.http_json import field_errors, receive_body
from collector.ingest.consent_lookup import ConsentLookups
from collector.ingest.drops import DropReason, Rejection
from collector.ingest.metrics import UNKNOWN_SITE_LABEL, IngestTally
from collector.ingest.pipeline import BatchContext, IngestPipeline, RequestFacts
from collector.ingest.spool import Spool
from collector.ingest.wire import MAX_BODY_BYTES, Envelope, EventBatch, EventIn
from collector.lanes import Lane
from collector.state import lifespan_state
from consent.ledger import UNKNOWN
from consent.pseudonyms import visitor_key

__all__ = ["INGEST_PATH", "IngestEndpoint", "Ingestor"]

INGEST_PATH = "/api/events"

log = logging.getLogger("clearsignal.ingest")

# The request headers the endpoint reads; everything else is ignored.
_WANTED = frozenset(
    {b"content-type", b"content-length", b"user-agent", b"origin", b"referer", b"sec-gpc", b"dnt"}
)
_JSON = (b"content-type", b"application/json")
_RETRY_AFTER = (b"retry-after", b"1")
HEAVY_BODY_BYTES = 16 * 1024
"""Bodies above this are parsed and scrubbed in the heavy lane: the snippet's batches are
a few kilobytes."""
_BUSY = {"error": "busy", "detail": "too many large batches at once; retry later"}
_ADDRESS_LIMITED = {
    "error": "rate_limited",
    "detail": "too many events from this network; retry later",
}


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


class _Later(NamedTuple):
    """A request the event loop cannot finish at once: a large body, or a visitor whose
    consent only the store knows."""

    batch: EventBatch | None  # None: not parsed yet (a large body)
    invalid: list[dict[str, Any]]


@dataclass
class Ingestor:
    pipeline: IngestPipeline
    spool: Spool
    unverified: Spool
    """Rows of visitors whose consent the store could not confirm in time."""
    lookups: ConsentLookups
    tally: IngestTally
    origins: SiteOrigins
    heavy: Lane = field(default_factory=lambda: Lane("ingest-heavy", workers=1, queue=32))
    """Parsing and scrubbing of large bodies: meanwhile the event loop goes on answering
    small requests (it gets the GIL back every switch interval), and large requests from
    any number of clients share one core's worth of time at most."""

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
            facts = self._facts(scope, headers)
            now = self._ingest(body, facts)
            outcome = now if isinstance(now, _Outcome) else await self._finish(now, body, facts)
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

    def _facts(self, scope: Scope, headers: dict[bytes, str]) -> RequestFacts:
        peer = peer_address(scope)
        return RequestFacts(
            ip=peer,
            address=address_key(peer),
            user_agent=headers.get(b"user-agent", ""),
            origin=headers.get(b"origin"),
            referer=headers.get(b"referer"),
            privacy_signal=headers.get(b"sec-gpc") == "1" or headers.get(b"dnt") == "1",
            received_ms=int(self.pipeline.clock() * 1000),
        )

    def _ingest(self, body: bytes, facts: RequestFacts) -> _Outcome | _Later:
        """Parse, run the pipeline and queue the rows on the spool, on the event loop, when
        nothing needs waiting for.

        Synchronous on purpose: the batch, its events and rows are gone once it returns,
        so a request waiting for its fsync holds no objects the garbage collector visits.
        """
        if self.pipeline.limits.address.available(facts.address) < 1:
            return _Outcome(429, _ADDRESS_LIMITED)  # before parsing: a flood costs little
        if len(body) > HEAVY_BODY_BYTES:
            return _Outcome(429, _BUSY) if self.heavy.full else _Later(None, [])
        try:
            batch, invalid = self._parse(body)
        except RequestRefused as exc:
            return _Outcome(exc.status, exc.body)
        if self._unknown_consent(batch) is not None:
            return _Later(batch, invalid)
        ctx, events = self._decide(batch, facts)
        if isinstance(ctx, _Outcome):
            return ctx
        return self._outcome(ctx, invalid, self.pipeline.rows(ctx, events))

    async def _finish(self, later: _Later, body: bytes, facts: RequestFacts) -> _Outcome:
        """What ``_ingest`` could not do at once: the large body's parsing and scrubbing in
        the heavy lane, the consent lookup off the event loop."""
        if later.batch is None:
            try:
                batch, invalid = await self.heavy.run(self._parse, body)
            except RequestRefused as exc:
                return _Outcome(exc.status, exc.body)
        else:
            batch, invalid = later.batch, later.invalid
        unknown = self._unknown_consent(batch)
        if unknown is not None:
            await self.lookups.know(*unknown)
        ctx, events = self._decide(batch, facts)
        if isinstance(ctx, _Outcome):
            return ctx
        if len(body) > HEAVY_BODY_BYTES:
            rows = await self.heavy.run(self.pipeline.rows, ctx, events)
        else:
            rows = self.pipeline.rows(ctx, events)
        return self._outcome(ctx, invalid, rows)

    def _unknown_consent(self, batch: EventBatch) -> tuple[str, str] | None:
        """The (site, visitor key) whose consent only the store knows, if any."""
        if batch.visitor is None or batch.site not in self.pipeline.sites:
            return None
        key = visitor_key(self.pipeline.site_keys.key(batch.site), batch.visitor)
        known = self.lookups.ledger.cached(batch.site, key)
        return (batch.site, key) if known is UNKNOWN else None

    def _decide(
        self, batch: EventBatch, facts: RequestFacts
    ) -> tuple[BatchContext | _Outcome, list[EventIn]]:
        try:
            return self.pipeline.decide(batch, facts)
        except Rejection as rejection:
            site = batch.site
            label = site if site in self.pipeline.sites else UNKNOWN_SITE_LABEL
            self.tally.count_dropped(label, rejection.reason, rejection.events)
            refusal = {"error": rejection.reason.value, "detail": rejection.message}
            return _Outcome(rejection.status, refusal, site), []

    def _outcome(
        self, ctx: BatchContext, invalid: list[dict[str, Any]], rows: list[list[Any]]
    ) -> _Outcome:
        site = ctx.batch.site
        if invalid:
            ctx.drop(DropReason.INVALID, len(invalid))
        dropped = {reason.value: count for reason, count in ctx.dropped.items()}
        for reason, count in ctx.dropped.items():
            self.tally.count_dropped(site, reason, count)
        answer: dict[str, Any] = {"accepted": len(rows), "dropped": dropped}
        if invalid:
            answer["errors"] = invalid
        spool = self.unverified if ctx.unverified else self.spool
        return _Outcome(202, answer, site, spool.append(rows) if rows else None)

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
