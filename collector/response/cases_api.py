"""The cases API: a site's own tools read its cases and record what its team did.

``GET /api/cases?site=<id>[&status=open|contacted|resolved|dismissed|all][&rule=<id>]
[&limit=N]`` lists cases by priority (open and contacted by default), each with the
customer's own reference (when it is known), the finding, the status, owner and times.
``POST /api/cases/<case id>/actions?site=<id>`` with ``{"action", "note"?}`` records a
step: ``claimed``, ``released``, ``contacted``, ``resolved``, ``dismissed``,
``reopened``, ``noted`` or ``acknowledged`` (a webhook receiver saying it got the
signal); the answer is the case as it then stands.

Both take ``Authorization: Bearer <key>`` with a key of the site that has the ``cases``
scope (``collector.api_auth``). Every answer that shows cases, and every step, is a row
of the admin action log (``api:<key id>``), as the inbox's are. Answers: 200; 400 bad
input; 401 no valid key; 403 a key of another site or without the scope; 404 no such
case; 409 a step the case's status does not allow; 429 too many failed keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.cases.book import CaseRefused
from aggregator.cases.desk import CaseDesk, CaseView
from aggregator.cases.state import OPEN, Action, CaseStatus
from aggregator.store.client import Store
from clearsignal.clock import utc_now, wire_time
from clearsignal.settings import Settings, SiteSettings
from collector.action_log import AdminAction, AdminActionLog
from collector.api_auth import BearerKeys
from collector.api_keys import CASES_SCOPE, ApiKey, ApiKeys
from collector.errors import RequestRefused
from collector.http_json import field_errors, json_response, receive_body
from collector.state import lifespan_state
from collector.wire_types import WireModel
from consent.pseudonyms import SiteKeys

__all__ = ["CASES_API_STATE", "CASES_PATH", "CasesApi", "case_document", "cases_routes"]

CASES_PATH = "/api/cases"
CASES_API_STATE = "cases_api"
NO_STORE = {"Cache-Control": "no-store"}
MAX_LIST = 500
_STATUSES: dict[str, frozenset[CaseStatus] | None] = {
    "open": OPEN,
    "all": None,
    **{status.value: frozenset({status}) for status in CaseStatus},
}


class CaseStep(WireModel):
    action: Literal[
        "claimed", "released", "contacted", "resolved", "dismissed", "reopened", "noted",
        "acknowledged",
    ]  # fmt: skip
    note: Annotated[str, Field(max_length=2000)] = ""


def case_document(view: CaseView, desk: CaseDesk) -> dict[str, Any]:
    state, record = view.state, view.state.record
    optional = {"first_response_at": state.first_response_at, "resolved_at": state.resolved_at}
    return {
        "case_id": record.case_id,
        "rule_id": record.rule_id,
        "customer": view.reference,
        "customer_key": record.customer_key,
        "status": state.status.value,
        "owner": state.owner,
        "priority": view.priority,
        "window": {"start": wire_time(record.window_start), "end": wire_time(record.window_end)},
        "opened_at": wire_time(record.opened_at),
        **{name: wire_time(value) if value else None for name, value in optional.items()},
        "history": desk.history(view),
    }


@dataclass
class CasesApi:
    settings: Settings
    store: Store
    site_keys: SiteKeys
    actions: AdminActionLog
    keys: ApiKeys
    bearer: BearerKeys = field(init=False)

    def __post_init__(self) -> None:
        self.bearer = BearerKeys(self.keys)

    async def _site(self, request: Request) -> tuple[ApiKey, SiteSettings, CaseDesk]:
        key, site = await self.bearer.site_key(request, self.settings, CASES_SCOPE)
        return key, site, CaseDesk(self.store, site, self.site_keys.key(site.id))

    async def _log(self, key: ApiKey, action: AdminAction, site: str, detail: str) -> None:
        await run_in_threadpool(
            self.actions.record, action, username=f"api:{key.key_id}", role="api_key",
            client="", site=site, detail=detail,
        )  # fmt: skip

    async def list_cases(self, request: Request) -> Response:
        key, site, desk = await self._site(request)
        query = request.query_params
        status = query.get("status", "open")
        if status not in _STATUSES:
            raise RequestRefused(
                400, {"error": "invalid", "detail": f"status: one of {list(_STATUSES)}"}
            )
        rule_id = query.get("rule") or None
        try:
            limit = min(int(query.get("limit", "100")), MAX_LIST)
        except ValueError:
            raise RequestRefused(400, {"error": "invalid", "detail": "limit: a number"}) from None
        now = utc_now()
        views = (await run_in_threadpool(desk.inbox, now, _STATUSES[status], rule_id))[:limit]
        documents = await run_in_threadpool(lambda: [case_document(v, desk) for v in views])
        detail = f"cases={','.join(v.case_id for v in views)}"
        await self._log(key, AdminAction.VIEW_INBOX, site.id, detail)
        return json_response(200, {"site": site.id, "cases": documents}, NO_STORE)

    async def record_step(self, request: Request) -> Response:
        key, site, desk = await self._site(request)
        body = await receive_body(
            request.headers.get("content-type"), request.headers.get("content-length"),
            request.receive, 16 * 1024, ("application/json",),
        )  # fmt: skip
        try:
            step = CaseStep.model_validate_json(body)
        except ValidationError as exc:
            raise RequestRefused(400, {"error": "invalid", "fields": field_errors(exc)}) from None
        case_id = str(request.path_params.get("case_id", ""))[:64]
        now: datetime = utc_now()
        view = await run_in_threadpool(desk.case, case_id, now)
        if view is None:
            raise RequestRefused(
                404, {"error": "no_such_case", "detail": "closed and erased, or never was"}
            )
        try:
            await run_in_threadpool(
                desk.act, view, Action(step.action), f"api:{key.key_id}", step.note, now
            )
        except CaseRefused as refused:
            raise RequestRefused(409, {"error": "not_now", "detail": str(refused)}) from None
        record = view.state.record
        detail = f"case={record.case_id} customer={record.customer_key} step={step.action}"
        await self._log(key, AdminAction.ACT_ON_CASE, site.id, detail)
        after = await run_in_threadpool(desk.case, case_id, utc_now())
        assert after is not None
        document = await run_in_threadpool(case_document, after, desk)
        return json_response(200, document, NO_STORE)


async def _list(request: Request) -> Response:
    return await lifespan_state(request, CASES_API_STATE, CasesApi).list_cases(request)


async def _step(request: Request) -> Response:
    return await lifespan_state(request, CASES_API_STATE, CasesApi).record_step(request)


def cases_routes() -> list[Route]:
    return [
        Route(CASES_PATH, _list, methods=["GET"]),
        Route(CASES_PATH + "/{case_id}/actions", _step, methods=["POST"]),
    ]
