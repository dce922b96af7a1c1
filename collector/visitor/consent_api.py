"""Consent endpoints: record a decision, fetch a receipt, ask for erasure.

* ``POST /api/consent`` records a decision and answers 201 with its receipt (pending
  until the sequencer integrates it, which a decision triggers at once);
* ``GET /api/consent/receipts/{receipt_id}`` the receipt, with its inclusion proof and
  signed checkpoint once integrated: it then verifies offline;
* ``DELETE /api/me`` a visitor's delete request: a withdrawal of every purpose that the
  erasure job carries out, answered 202 with the withdrawal receipt. The visitor is named
  by a ``{site, visitor}`` body, or (as /me sends it) by ``?site=<id>`` and
  ``Authorization: ClearSignal-Visitor <browser id>`` (``collector.visitor.auth``);
* ``GET /api/erasures/{request_receipt_id}`` the erasure receipt once carried out.

A request with ``Sec-GPC: 1`` and method ``gpc`` records a denial; an explicit choice
(banner, page, api, cmp) wins over the signal and the record notes that it was present.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from clearsignal.purposes import Purpose
from clearsignal.settings import SiteSettings
from collector.cors import note_site
from collector.errors import RequestRefused
from collector.http_json import field_errors, json_response, read_body
from collector.origins import site_accepts
from collector.state import collector_state
from collector.visitor.auth import NO_STORE, has_visitor_header, visitor_credentials
from collector.visitor.consent_wire import MAX_CONSENT_BODY, ConsentIn, ConsentMethod, VisitorIn
from collector.visitor.limits import visitor_limits
from consent.entries import ConsentDecision
from consent.errors import NoticeVersionError
from consent.ledger import ConsentLedger, RecordedConsent
from consent.log_reader import LogReader
from consent.receipts import pending_bundle, receipt_document

__all__ = [
    "RECEIPT_ID",
    "delete_me",
    "get_erasure",
    "get_receipt",
    "parse_site_request",
    "parse_visitor_request",
    "post_consent",
    "receipt_id_in",
]

M = TypeVar("M", bound=VisitorIn)
RECEIPT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _ledger(request: Request) -> ConsentLedger:
    return collector_state(request).ledger


def _reader(request: Request) -> LogReader:
    return collector_state(request).log_reader


def _site(request: Request, site_id: str) -> SiteSettings:
    settings = collector_state(request).settings
    site = settings.site(site_id)
    if site is None:
        raise RequestRefused(403, {"error": "unknown_site", "detail": f"unknown site {site_id!r}"})
    if not site_accepts(request, site, own_pages=True):
        raise RequestRefused(
            403,
            {
                "error": "origin_not_allowed",
                "detail": f"this origin is not allowed for site {site.id!r}; "
                "add it to the site's allowed_origins",
            },
        )
    note_site(request.scope, site.id)
    return site


async def _parse(request: Request, model: type[M]) -> M:
    body = await read_body(request, MAX_CONSENT_BODY)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestRefused(400, {"error": "invalid", "fields": field_errors(exc)}) from None


def _proof_url(receipt_id: str) -> str:
    return f"/api/consent/receipts/{receipt_id}"


def _receipt_body(request: Request, recorded: RecordedConsent) -> dict[str, Any]:
    log = pending_bundle(_reader(request).verifier)
    log["proof_url"] = _proof_url(recorded.receipt_id)
    return receipt_document(recorded.entry, recorded.leaf_hash, log)


def _wake(request: Request, job: str) -> None:
    collector_state(request).nudge(job)


async def post_consent(request: Request) -> Response:
    consent = await _parse(request, ConsentIn)
    site = _site(request, consent.site)
    limits = visitor_limits(request)
    limits.take(limits.site_decisions, site.id)
    gpc = request.headers.get("sec-gpc") == "1"
    denied = consent.method == ConsentMethod.GPC
    decision = ConsentDecision(
        site=site.id,
        browser_id=consent.visitor,
        choices={
            Purpose.ANALYTICS: consent.purposes.analytics and not denied,
            Purpose.PERSONALIZATION: consent.purposes.personalization and not denied,
        },
        notice_version=consent.notice_version,
        method=consent.method.value,
        client_time=(
            datetime.fromtimestamp(consent.client_ts / 1000, UTC) if consent.client_ts else None
        ),
        tcf=consent.tcf,
        gcm={str(kind): choice for kind, choice in consent.gcm.items()} if consent.gcm else None,
        gpc=gpc or denied,
    )
    try:
        recorded = await run_in_threadpool(_ledger(request).record, decision)
    except NoticeVersionError as exc:
        return json_response(
            409,
            {
                "error": "notice_version",
                "detail": str(exc),
                "current_notice_version": exc.current_version,
            },
        )
    _wake(request, "consent.sequence")
    if recorded.kind == "withdrawal":
        _wake(request, "consent.erase")
    body = _receipt_body(request, recorded)
    return json_response(201, body, {"Location": _proof_url(recorded.receipt_id)})


async def parse_visitor_request(request: Request) -> tuple[VisitorIn, SiteSettings]:
    """The ``{site, visitor}`` body of a visitor's own request, from an accepted origin."""
    return await parse_site_request(request, VisitorIn)


async def parse_site_request(request: Request, model: type[M]) -> tuple[M, SiteSettings]:
    """A visitor's own request body of ``model``, for a site that accepts its origin."""
    visitor = await _parse(request, model)
    return visitor, _site(request, visitor.site)


async def _deleting_visitor(request: Request) -> tuple[str, SiteSettings]:
    """The browser id and site of a delete request, from its header or its body."""
    if has_visitor_header(request):
        credentials = visitor_credentials(request)
        return credentials.browser_id, _site(request, credentials.site.id)
    visitor, site = await parse_visitor_request(request)
    return visitor.visitor, site


async def delete_me(request: Request) -> Response:
    browser_id, site = await _deleting_visitor(request)
    limits = visitor_limits(request)
    limits.take(limits.site_decisions, site.id)
    decision = ConsentDecision(
        site=site.id,
        browser_id=browser_id,
        choices={Purpose.ANALYTICS: False, Purpose.PERSONALIZATION: False},
        notice_version=site.notice.version,
        method="delete_request",
        kind="withdrawal",
    )
    recorded = await run_in_threadpool(_ledger(request).record, decision)
    _wake(request, "consent.erase")
    _wake(request, "consent.sequence")
    return json_response(
        202,
        {
            "withdrawal": _receipt_body(request, recorded),
            "erasure": {
                "status": "scheduled",
                "receipt_url": f"/api/erasures/{recorded.receipt_id}",
            },
        },
        NO_STORE,
    )


def receipt_id_in(text: str) -> str:
    """A receipt id as ClearSignal makes them (a UUID), or 400 before any lookup."""
    if not RECEIPT_ID.fullmatch(text):
        raise RequestRefused(
            400, {"error": "invalid", "detail": "a receipt id is a UUID, as a receipt names it"}
        )
    return text


async def get_receipt(request: Request) -> Response:
    receipt_id = receipt_id_in(request.path_params["receipt_id"])
    receipt = await run_in_threadpool(_reader(request).receipt, receipt_id)
    if receipt is None:
        return json_response(404, {"error": "not_found", "detail": "no such receipt"})
    return json_response(200, receipt)


async def get_erasure(request: Request) -> Response:
    request_id = receipt_id_in(request.path_params["request_receipt_id"])
    receipt = await run_in_threadpool(_reader(request).erasure_receipt, request_id)
    if receipt is None:
        return json_response(
            404,
            {
                "error": "not_found",
                "detail": "no erasure has been carried out for this request yet; "
                "erasures run within one scheduler cycle",
            },
        )
    return json_response(200, receipt)
