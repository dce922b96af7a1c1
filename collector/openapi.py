"""The OpenAPI 3.1 document of the public HTTP API, built from the wire models themselves."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from clearsignal import __version__
from collector.ingest.drops import DropReason
from collector.ingest.wire import MAX_BODY_BYTES, EventBatch

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
    schemas = _schemas(EventBatch)
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
                "description": "The malformed events of a batch whose other events were kept.",
                "items": {
                    "type": "object",
                    "required": ["index", "fields"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
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
                        "202": {
                            "description": "Accepted: durably spooled; dropped events by reason",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": REF.format(model="Accepted")}
                                }
                            },
                        },
                        "400": _error("Malformed body; field errors listed"),
                        "403": _error("Unknown site, or origin not allowed for the site"),
                        "413": _error("Body too large"),
                        "415": _error("Content type other than application/json or text/plain"),
                        "429": {
                            **_error("Rate limited; retry after the Retry-After header"),
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait before sending again.",
                                    "required": True,
                                    "schema": {"type": "integer", "minimum": 0},
                                }
                            },
                        },
                        "503": _error("The spool cannot write; retry later"),
                    },
                }
            }
        },
        "components": {"schemas": schemas},
    }
