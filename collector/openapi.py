"""The OpenAPI 3.1 document of the public HTTP API, built from the wire models themselves."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from clearsignal import __version__
from collector.ingest.drops import DropReason
from collector.ingest.server_events.deletions import DELETIONS_PATH, DeletionsIn
from collector.ingest.server_events.kinds import SERVER_EVENT
from collector.ingest.server_events.parse import (
    MAX_SERVER_BODY_BYTES,
    MAX_SERVER_EVENTS,
    ServerEventBatch,
)
from collector.ingest.wire import MAX_BODY_BYTES, EventBatch
from collector.response.cases_api import CASES_PATH, CaseStep
from collector.stats.openapi_paths import stats_paths

__all__ = ["openapi_document"]

REF = "#/components/schemas/{model}"


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


@cache
def openapi_document() -> dict[str, Any]:
    schemas = _schemas(EventBatch, ServerEventBatch, DeletionsIn, CaseStep)
    schemas["ServerEvent"] = SERVER_EVENT.json_schema(ref_template=REF)
    schemas.update(schemas["ServerEvent"].pop("$defs", {}))
    field_error = {
        "type": "object",
        "required": ["field", "error"],
        "properties": {"field": {"type": "string"}, "error": {"type": "string"}},
    }
    schemas["FieldError"] = field_error
    schemas["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "detail": {"type": "string"},
            "fields": {"type": "array", "items": {"$ref": REF.format(model="FieldError")}},
        },
    }
    schemas["Accepted"] = {
        "type": "object",
        "required": ["accepted", "dropped"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 0},
            "dropped": {
                "type": "object",
                "description": "Events not stored, by reason.",
                "propertyNames": {"enum": [reason.value for reason in DropReason]},
                "additionalProperties": {"type": "integer", "minimum": 1},
            },
            "errors": {
                "type": "array",
                "description": "The events of a batch that were not kept while others were: "
                "malformed ones with their field errors, and (server events) those dropped "
                "with a reason and detail.",
                "items": {
                    "type": "object",
                    "required": ["index"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "error": {"type": "string"},
                        "detail": {"type": "string"},
                        "fields": {
                            "type": "array",
                            "items": {"$ref": REF.format(model="FieldError")},
                        },
                    },
                },
            },
        },
    }
    batch = {"schema": {"$ref": REF.format(model="EventBatch")}}
    rate_limited = {
        **_error("Rate limited; retry after the Retry-After header"),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before sending again.",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    }
    accepted = {
        "description": "Accepted: durably spooled; dropped events by reason",
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Accepted")}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ClearSignal collector API",
            "version": __version__,
            "description": "First-party, consent-aware event ingest. See docs/api.md.",
        },
        "paths": {
            "/api/events": {
                "post": {
                    "operationId": "postEvents",
                    "summary": "Send a batch of behavioural events",
                    "description": f"Body at most {MAX_BODY_BYTES} bytes. text/plain is accepted "
                    "so browsers can send without a CORS preflight. A batch whose envelope is "
                    "valid but some of whose events are not is still processed: the valid "
                    "events are kept and the others reported under `errors` in the 202 answer.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": batch, "text/plain": batch},
                    },
                    "responses": {
                        "202": accepted,
                        "400": _error("Malformed body; field errors listed"),
                        "403": _error("Unknown site, or origin not allowed for the site"),
                        "413": _error("Body too large"),
                        "415": _error("Content type other than application/json or text/plain"),
                        "429": rate_limited,
                        "503": _error("The spool cannot write; retry later"),
                    },
                }
            },
            **_server_event_paths(accepted, rate_limited),
            **_case_paths(rate_limited),
            **stats_paths(_error, rate_limited),
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "siteApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A site's API key (cs_sk_…): clearsignal keys create, or /admin.",
                }
            },
        },
    }


def _server_event_paths(accepted: dict[str, Any], rate_limited: dict[str, Any]) -> dict[str, Any]:
    ndjson = {
        "schema": {"$ref": REF.format(model="ServerEvent")},
        "description": "One ServerEvent per line; the site in ?site=<id>.",
    }
    refused = {
        "401": _error("No API key, or an unknown, mistyped or revoked one"),
        "403": _error("The key is for another site, or the site is unknown"),
        "429": rate_limited,
        "503": _error("The spool cannot write, or the key cannot be checked; retry later"),
    }
    return {
        "/api/server-events": {
            "post": {
                "operationId": "postServerEvents",
                "summary": "Send events from the site's own systems",
                "description": f"JSON or NDJSON, at most {MAX_SERVER_EVENTS} events and "
                f"{MAX_SERVER_BODY_BYTES} bytes. Each event is checked on its own: invalid "
                "ones, kinds the key may not send, repeats within the batch and events "
                "outside the site's retention are reported under `errors`; the others are "
                "spooled. An event counts for a linked visitor with an analytics grant when "
                "it is written (else it is dropped as no_consent, unless the site declared "
                "another lawful basis for its kind). See docs/api.md.",
                "security": [{"siteApiKey": []}],
                "parameters": [
                    {
                        "name": "site",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The site, for an NDJSON body.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": REF.format(model="ServerEventBatch")}
                        },
                        "application/x-ndjson": ndjson,
                    },
                },
                "responses": {
                    "202": accepted,
                    "400": _error("Nothing valid in the body; field errors listed"),
                    "413": _error("Body or batch too large"),
                    "415": _error("Content type other than JSON or NDJSON"),
                    **refused,
                },
            }
        },
        DELETIONS_PATH: {
            "post": {
                "operationId": "postCustomerDeletions",
                "summary": "Delete everything held about customers, by their references",
                "security": [{"siteApiKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": REF.format(model="DeletionsIn")}}
                    },
                },
                "responses": {
                    "202": {
                        "description": "The customers' own rows are deleted; each linked "
                        "visitor's withdrawal receipt is answered by an erasure receipt.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["customers", "withdrawals"],
                                    "properties": {
                                        "customers": {"type": "integer", "minimum": 1},
                                        "withdrawals": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("Malformed body; field errors listed"),
                    **refused,
                },
            }
        },
    }


def _case_paths(rate_limited: dict[str, Any]) -> dict[str, Any]:
    site = {"name": "site", "in": "query", "required": True, "schema": {"type": "string"}}
    refused = {
        "401": _error("No API key, or an unknown, mistyped or revoked one"),
        "403": _error("The key is for another site, or has no 'cases' scope"),
        "429": rate_limited,
    }
    case = {"type": "object", "description": "A case: see docs/api.md, Cases."}
    return {
        CASES_PATH: {
            "get": {
                "operationId": "listCases",
                "summary": "The site's cases of consenting customers, by priority",
                "security": [{"siteApiKey": []}],
                "parameters": [
                    site,
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "default": "open"},
                    },
                    {"name": "rule", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 500}},
                ],
                "responses": {
                    "200": {
                        "description": "The cases",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["site", "cases"],
                                    "properties": {
                                        "site": {"type": "string"},
                                        "cases": {"type": "array", "items": case},
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("A status or limit that is not one"),
                    **refused,
                },
            }
        },
        CASES_PATH + "/{case_id}/actions": {
            "post": {
                "operationId": "recordCaseStep",
                "summary": "Record what the team did on a case",
                "security": [{"siteApiKey": []}],
                "parameters": [
                    site,
                    {
                        "name": "case_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": REF.format(model="CaseStep")}}
                    },
                },
                "responses": {
                    "200": {
                        "description": "The case as it now stands",
                        "content": {"application/json": {"schema": case}},
                    },
                    "400": _error("An unknown step or field; field errors listed"),
                    "404": _error("No such case: closed and erased, or never was"),
                    "409": _error("A step the case's status does not allow, or a bad note"),
                    **refused,
                },
            }
        },
    }
