"""``POST /api/events``: parse at the edge, run the pipeline, spool, answer 202.

Answers: 202 ``{"accepted": n, "dropped": {reason: count}}`` (with ``errors`` for events
that were malformed while others in the batch were valid); 400 with field errors when
nothing in the body is usable; 413 over the body limit; 403 unknown site or origin;
429 rate limited (with Retry-After); 503 if the spool cannot write.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from collector.cors import note_site
from collector.drops import DropReason, Rejection
from collector.http_json import BadRequest, field_errors, json_response, read_body
from collector.metrics import UNKNOWN_SITE_LABEL, CollectorMetrics
from collector.pipeline import IngestPipeline, RequestFacts
from collector.spool import Spool
from collector.wire import MAX_BODY_BYTES, Envelope, EventBatch, EventIn

__all__ = ["Ingestor", "post_events"]

log = logging.getLogger("clearsignal.ingest")


async def post_events(request: Request) -> Response:
    ingestor: Ingestor = request.app.state.ingestor
    return await ingestor.handle(request)


@dataclass
class Ingestor:
    pipeline: IngestPipeline
    spool: Spool
    metrics: CollectorMetrics

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        response = await self._handle(request)
        self.metrics.ingest_seconds.labels(str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    async def _handle(self, request: Request) -> Response:
        try:
            body = await read_body(request, MAX_BODY_BYTES)
            batch, invalid = self._parse(body)
        except BadRequest as exc:
            return json_response(exc.status, exc.body)
        note_site(request.scope, batch.site)
        headers = request.headers
        facts = RequestFacts(
            ip=request.client.host if request.client else "",
            user_agent=headers.get("user-agent", ""),
            origin=headers.get("origin"),
            referer=headers.get("referer"),
            privacy_signal=headers.get("sec-gpc") == "1" or headers.get("dnt") == "1",
            received_ms=int(self.pipeline.clock() * 1000),
        )
        try:
            rows, ctx = self.pipeline.process(batch, facts)
        except Rejection as rejection:
            site = batch.site if self.pipeline.settings.site(batch.site) else UNKNOWN_SITE_LABEL
            self.metrics.dropped.labels(site, rejection.reason.value).inc(rejection.events)
            extra = {"Retry-After": "1"} if rejection.status == 429 else None
            return json_response(
                rejection.status,
                {"error": rejection.reason.value, "detail": rejection.message},
                extra,
            )
        if rows:
            try:
                await self.spool.append(rows)
            except OSError as exc:
                log.error("spool write failed: %s", exc)
                return json_response(503, {"error": "spool_unavailable", "detail": "retry later"})
        dropped = {reason.value: count for reason, count in ctx.dropped.items()}
        if invalid:
            dropped[DropReason.INVALID.value] = len(invalid)
        for reason, count in dropped.items():
            self.metrics.dropped.labels(batch.site, reason).inc(count)
        self.metrics.accepted.labels(batch.site).inc(len(rows))
        answer: dict[str, Any] = {"accepted": len(rows), "dropped": dropped}
        if invalid:
            answer["errors"] = invalid
        return json_response(202, answer)

    def _parse(self, body: bytes) -> tuple[EventBatch, list[dict[str, Any]]]:
        """The batch of valid events, and the errors of the invalid ones."""
        try:
            return EventBatch.model_validate_json(body), []
        except ValidationError as exc:
            whole = field_errors(exc)
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError:
            raise BadRequest(400, {"error": "invalid", "fields": whole}) from None
        valid: list[EventIn] = []
        invalid: list[dict[str, Any]] = []
        for index, raw in enumerate(envelope.events):
            try:
                valid.append(EventIn.model_validate(raw))
            except ValidationError as exc:
                invalid.append({"index": index, "fields": field_errors(exc, ("events", index))})
        if not valid:
            raise BadRequest(400, {"error": "invalid", "fields": whole})
        batch = EventBatch(site=envelope.site, visitor=envelope.visitor, events=valid)
        return batch, invalid
