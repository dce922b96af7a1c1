"""The public face of the consent log, for anyone who wants to check it.

* ``GET /api/transparency/checkpoint``: the latest signed checkpoint (C2SP signed note);
* ``GET /api/transparency/public-key``: the verifier key (C2SP vkey) that signs them;
* ``GET /api/transparency/inclusion?receipt=<id>`` or ``?index=<i>[&tree_size=<n>]``:
  an RFC 6962 audit path, with the checkpoint it leads to;
* ``GET /api/transparency/consistency?from=<m>&to=<n>``: an RFC 6962 consistency proof;
* ``POST /api/transparency/cosignatures``: a witness hands in the checkpoint it cosigned
  (the signed note with its C2SP tlog-cosignature line); kept when the witness's key is
  one of ``[transparency] witnesses`` and the log signed and still holds the checkpoint.
Hashes are base64, as in RFC 6962's JSON API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from collector.http_json import json_response, read_body
from collector.state import collector_state
from collector.visitor.consent_api import receipt_id_in
from consent.cosigned import CosignatureRejected
from consent.log_reader import LogReader, ProofUnavailable

__all__ = [
    "get_checkpoint",
    "get_consistency",
    "get_inclusion",
    "get_public_key",
    "post_cosignatures",
]

MAX_COSIGNED_NOTE = 16_384


def _reader(request: Request) -> LogReader:
    return collector_state(request).log_reader


def _size(request: Request, name: str) -> int:
    value = request.query_params.get(name)
    if value is None or not value.isdigit() or len(value) > 19:
        raise ValueError(f"query parameter {name!r} must be a non-negative integer")
    return int(value)


async def _answer(call: Callable[[], dict[str, Any]]) -> Response:
    try:
        return json_response(200, await run_in_threadpool(call))
    except ProofUnavailable as exc:
        return json_response(404, {"error": "not_available", "detail": str(exc)})


async def get_checkpoint(request: Request) -> Response:
    note = await run_in_threadpool(_reader(request).checkpoint)
    if note is None:
        return PlainTextResponse("no checkpoint has been signed yet\n", status_code=404)
    return PlainTextResponse(note, headers={"Cache-Control": "no-cache"})


async def get_public_key(request: Request) -> Response:
    return PlainTextResponse(
        _reader(request).verifier.vkey + "\n", headers={"Cache-Control": "public, max-age=3600"}
    )


async def get_inclusion(request: Request) -> Response:
    reader = _reader(request)
    asked = request.query_params.get("receipt")
    if asked is not None:
        receipt = receipt_id_in(asked)
        return await _answer(lambda: reader.inclusion_by_receipt(receipt))
    try:
        index = _size(request, "index")
        tree_size = _size(request, "tree_size") if "tree_size" in request.query_params else None
    except ValueError as exc:
        return json_response(
            400, {"error": "invalid", "detail": f"{exc}; or pass receipt=<receipt id>"}
        )
    return await _answer(lambda: reader.inclusion(index, tree_size))


async def get_consistency(request: Request) -> Response:
    try:
        old_size, new_size = _size(request, "from"), _size(request, "to")
    except ValueError as exc:
        return json_response(400, {"error": "invalid", "detail": str(exc)})
    reader = _reader(request)
    return await _answer(lambda: reader.consistency(old_size, new_size))


async def post_cosignatures(request: Request) -> Response:
    body = await read_body(request, MAX_COSIGNED_NOTE)
    try:
        note = body.decode()
    except UnicodeDecodeError:
        return json_response(400, {"error": "invalid", "detail": "the note is not UTF-8"})
    reader = _reader(request)
    try:
        stored = await run_in_threadpool(reader.cosigned.accept, note)
    except CosignatureRejected as rejected:
        return json_response(rejected.status, {"error": "rejected", "detail": rejected.detail})
    reader.forget_latest()
    return json_response(200, {"stored": stored})
