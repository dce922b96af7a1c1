"""JSON over HTTP at the edge: read a bounded body, answer JSON, explain field errors."""

from __future__ import annotations

import orjson
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive

from collector.errors import RequestRefused

__all__ = [
    "ACCEPTED_TYPES",
    "field_errors",
    "json_response",
    "media_type_of",
    "read_body",
    "receive_body",
]

ACCEPTED_TYPES = ("application/json", "text/plain")
DRAIN_LIMIT = 1024 * 1024


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def field_errors(
    error: ValidationError, prefix: tuple[str | int, ...] = ()
) -> list[dict[str, str]]:
    return [
        {
            "field": ".".join(str(p) for p in (*prefix, *item["loc"])) or "(body)",
            "error": item["msg"],
        }
        for item in error.errors(include_url=False, include_input=False)
    ]


async def read_body(request: Request, limit: int) -> bytes:
    """The body of a JSON (or text/plain JSON) request of at most ``limit`` bytes."""
    headers = request.headers
    return await receive_body(
        headers.get("content-type"), headers.get("content-length"), request.receive, limit
    )


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


async def receive_body(
    content_type: str | None,
    content_length: str | None,
    receive: Receive,
    limit: int,
    accepted: tuple[str, ...] = ACCEPTED_TYPES,
) -> bytes:
    """``read_body`` at the ASGI level, for endpoints that take no ``Request``."""
    if media_type_of(content_type) not in accepted:
        await _drain(receive, 0)
        raise RequestRefused(
            415, {"error": "unsupported_media_type", "detail": f"send {' or '.join(accepted)}"}
        )
    too_large = RequestRefused(413, {"error": "too_large", "detail": f"body over {limit} bytes"})
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        await _drain(receive, 0)
        raise too_large
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            if message.get("more_body", False):
                await _drain(receive, size)
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _drain(receive: Receive, read: int) -> None:
    """Read and drop the rest of a refused body, up to ``DRAIN_LIMIT`` bytes in all: a
    client still sending when the server answers and closes would see its connection
    reset, not the answer. Past the bound the connection is closed anyway."""
    while read <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
