"""The Stats API: the dashboard's figures as JSON for the site's own tools.

``GET /api/stats/summary``, ``GET /api/stats/breakdown/<table>`` and
``GET /api/stats/realtime``, each with ``site=<id>``, the period (``period=today|7d|30d|
month|custom``, ``month=YYYY-MM``, ``from`` and ``to``), ``compare=previous`` for the
period before, ``limit`` (rows, at most ``MAX_ROWS``) and any filters named as their
dimension (``page=/pricing&country=DE``). The figures are those of the dashboard
(``aggregator.reports.analytics``), under the same k rule: a number that is not published
is ``null``.

Every request takes ``Authorization: Bearer <key>`` with a key of the site that has the
``stats`` scope, which reads figures and nothing else; each key has its own rate limit
(``[limits] stats_per_key_per_second``). Answers: 200; 400 a bad parameter, naming it;
401 no valid key; 403 a key of another site or without the scope; 404 no such table; 429
past the key's rate, with Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.reports.analytics import REALTIME_MINUTES, Question, SiteAnalytics, Summary, Table
from aggregator.reports.breakdowns import BREAKDOWNS
from aggregator.reports.filters import Dimension
from aggregator.reports.periods import Period
from aggregator.reports.query_errors import QueryError
from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import ApiScope, Settings, SiteSettings
from collector.api_auth import BearerKeys
from collector.api_keys import ApiKeys
from collector.errors import RequestRefused
from collector.http_json import json_response
from collector.rate_limit import RateLimiter
from collector.state import lifespan_state

__all__ = ["MAX_ROWS", "STATS_API_STATE", "STATS_PATH", "StatsApi", "stats_routes"]

STATS_PATH = "/api/stats"
STATS_API_STATE = "stats_api"
MAX_ROWS = 1000
PRIVATE = {"Cache-Control": "private, no-store"}
_PARAMETERS = frozenset(
    {"site", "period", "month", "from", "to", "compare", "limit"} | {d.value for d in Dimension}
)


def _invalid(name: str, detail: str) -> RequestRefused:
    return RequestRefused(
        400, {"error": "invalid", "detail": f"{name}: {detail}", "fields": [
            {"field": name, "error": detail}
        ]},
    )  # fmt: skip


def _period(period: Period) -> dict[str, str]:
    return {"name": period.name, "from": str(period.first), "to": str(period.last)}


def summary_document(summary: Summary) -> dict[str, Any]:
    return {
        "visitors": summary.visitors,
        "pageviews": summary.pageviews,
        "visits": summary.visits,
        "bounce_rate": summary.bounce_rate,
        "visit_duration_seconds": summary.visit_seconds,
        "pages_per_visit": summary.pages_per_visit,
    }


def table_document(table: Table, before: Table | None) -> dict[str, Any]:
    earlier = {row.key: row.visitors for row in before.rows} if before else {}
    return {
        "breakdown": table.breakdown.name,
        "title": table.breakdown.title,
        "total": table.total,
        "hidden_rows": table.hidden_rows,
        "rows": [
            {
                "key": row.key,
                "visitors": row.visitors,
                "value": row.value,
                "share": row.share,
                **({"previous_visitors": earlier.get(row.key)} if before else {}),
            }
            for row in table.rows
        ],
    }


@dataclass
class StatsApi:
    settings: Settings
    store: Store
    keys: ApiKeys
    bearer: BearerKeys = field(init=False)
    per_key: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.bearer = BearerKeys(self.keys)
        limits = self.settings.limits
        self.per_key = RateLimiter(limits.stats_per_key_per_second, limits.stats_key_burst)

    async def _site(self, request: Request) -> SiteSettings:
        key, site = await self.bearer.site_key(request, self.settings, ApiScope.STATS.value)
        if self.per_key.take(key.key_id, 1) < 1:
            raise RequestRefused(
                429,
                {"error": "rate_limited", "detail": "too many requests with this key"},
                {"Retry-After": "1"},
            )
        return site

    def _question(self, request: Request, site: SiteSettings) -> tuple[Question, bool, int]:
        query = request.query_params
        for name in query:
            if name not in _PARAMETERS:
                raise _invalid(name, "not a parameter of the Stats API")
        compare = query.get("compare", "")
        if compare not in ("", "previous"):
            raise _invalid("compare", "only 'previous'")
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            raise _invalid("limit", "a whole number") from None
        if not 1 <= limit <= MAX_ROWS:
            raise _invalid("limit", f"from 1 to {MAX_ROWS}")
        try:
            question = Question.parse(query, site, utc_now().date())
        except QueryError as wrong:
            raise _invalid(wrong.field, wrong.detail) from None
        return question, compare == "previous", limit

    def _head(self, site: SiteSettings, question: Question) -> dict[str, Any]:
        return {
            "site": site.id,
            "k": site.k_anonymity,
            "period": _period(question.period),
            "filters": question.filters.as_query(),
        }

    async def summary(self, request: Request) -> Response:
        site = await self._site(request)
        question, compare, _ = self._question(request, site)
        analytics = SiteAnalytics(self.store, site)

        def figures() -> dict[str, Any]:
            document = self._head(site, question)
            document |= summary_document(analytics.answer(question).summary())
            if compare:
                before = Question(question.period.previous(), question.filters)
                previous = summary_document(analytics.answer(before).summary())
                document["previous"] = {"period": _period(before.period), **previous}
            return document

        return json_response(200, await run_in_threadpool(figures), PRIVATE)

    async def breakdown(self, request: Request) -> Response:
        site = await self._site(request)
        name = str(request.path_params.get("table", ""))
        if name not in BREAKDOWNS:
            raise RequestRefused(
                404, {"error": "no_such_table", "detail": f"one of {', '.join(BREAKDOWNS)}"}
            )
        question, compare, limit = self._question(request, site)
        analytics = SiteAnalytics(self.store, site)

        def figures() -> dict[str, Any]:
            table = analytics.answer(question).table(name, limit)
            before = None
            if compare:
                earlier = Question(question.period.previous(), question.filters)
                before = analytics.answer(earlier).table(name, MAX_ROWS)
            return self._head(site, question) | table_document(table, before)

        return json_response(200, await run_in_threadpool(figures), PRIVATE)

    async def realtime(self, request: Request) -> Response:
        site = await self._site(request)
        visitors = await run_in_threadpool(SiteAnalytics(self.store, site).realtime)
        document = {
            "site": site.id,
            "k": site.k_anonymity,
            "minutes": REALTIME_MINUTES,
            "visitors": visitors,
        }
        return json_response(200, document, PRIVATE)


def _api(request: Request) -> StatsApi:
    return lifespan_state(request, STATS_API_STATE, StatsApi)


async def _summary(request: Request) -> Response:
    return await _api(request).summary(request)


async def _breakdown(request: Request) -> Response:
    return await _api(request).breakdown(request)


async def _realtime(request: Request) -> Response:
    return await _api(request).realtime(request)


def stats_routes() -> list[Route]:
    return [
        Route(STATS_PATH + "/summary", _summary, methods=["GET"]),
        Route(STATS_PATH + "/breakdown/{table}", _breakdown, methods=["GET"]),
        Route(STATS_PATH + "/realtime", _realtime, methods=["GET"]),
    ]
