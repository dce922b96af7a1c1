"""The Stats API's part of the OpenAPI document (``collector.openapi`` puts it in)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aggregator.reports.breakdowns import BREAKDOWNS
from aggregator.reports.filters import Dimension
from aggregator.reports.periods import PERIODS
from collector.stats.api import MAX_ROWS, STATS_PATH

__all__ = ["stats_paths"]

_NUMBER = {"type": ["number", "null"]}
_COUNT = {"type": ["integer", "null"], "description": "null: fewer than k visitors"}
_PERIOD = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "from": {"type": "string", "format": "date"},
                   "to": {"type": "string", "format": "date"}},
}  # fmt: skip
_HEAD = {
    "site": {"type": "string"},
    "k": {"type": "integer"},
    "period": _PERIOD,
    "filters": {"type": "object", "additionalProperties": {"type": "string"}},
}
_SUMMARY = {
    "visitors": _COUNT, "pageviews": _COUNT, "visits": _COUNT, "bounce_rate": _NUMBER,
    "visit_duration_seconds": _NUMBER, "pages_per_visit": _NUMBER,
}  # fmt: skip
_ROW = {
    "type": "object",
    "properties": {
        "key": {"type": "string"}, "visitors": {"type": "integer"}, "value": {"type": "integer"},
        "share": {"type": "number"}, "previous_visitors": _COUNT,
    },
}  # fmt: skip


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _parameters() -> list[dict[str, Any]]:
    return [
        {**_query("site", {"type": "string"}), "required": True},
        _query("period", {"enum": list(PERIODS), "default": "30d"}),
        _query("month", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, "with period=month"),
        _query("from", {"type": "string", "format": "date"}, "with period=custom"),
        _query("to", {"type": "string", "format": "date"}, "with period=custom"),
        _query("compare", {"enum": ["previous"]}, "also the period before, as long"),
        *(
            _query(d.value, {"type": "string"}, "a filter: visitors who matched it")
            for d in Dimension
        ),
    ]


def _ok(description: str, properties: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "properties": {**_HEAD, **properties}}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def stats_paths(
    error: Callable[[str], dict[str, Any]], rate_limited: dict[str, Any]
) -> dict[str, Any]:
    refused = {
        "400": error("A bad parameter; the field is named"),
        "401": error("No API key, or an unknown, mistyped or revoked one"),
        "403": error("The key is for another site, or has no 'stats' scope"),
        "429": rate_limited,
    }
    limit = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_ROWS})
    table = {
        "name": "table", "in": "path", "required": True, "schema": {"enum": list(BREAKDOWNS)},
    }  # fmt: skip
    return {
        STATS_PATH + "/summary": {"get": {
            "operationId": "statsSummary",
            "summary": "Visitors, pageviews, visits, bounce rate, visit duration, pages per visit",
            "security": [{"siteApiKey": []}],
            "parameters": _parameters(),
            "responses": {"200": _ok("The figures (null: not published under the k rule)", {
                **_SUMMARY, "previous": {"type": "object"}}), **refused},
        }},
        STATS_PATH + "/breakdown/{table}": {"get": {
            "operationId": "statsBreakdown",
            "summary": "A table of the dashboard: pages, sources, countries, ...",
            "security": [{"siteApiKey": []}],
            "parameters": [table, *_parameters(), limit],
            "responses": {"200": _ok("The published rows, most visitors first", {
                "breakdown": {"type": "string"}, "title": {"type": "string"}, "total": _COUNT,
                "hidden_rows": {"type": "integer"}, "rows": {"type": "array", "items": _ROW}}),
                "404": error("No such table"), **refused},
        }},
        STATS_PATH + "/realtime": {"get": {
            "operationId": "statsRealtime",
            "summary": "Visitors in the last 5 minutes",
            "security": [{"siteApiKey": []}],
            "parameters": [{**_query("site", {"type": "string"}), "required": True}],
            "responses": {"200": _ok("The count", {"minutes": {"type": "integer"},
                                                    "visitors": _COUNT}), **refused},
        }},
    }  # fmt: skip
