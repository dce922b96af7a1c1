"""The bare baseline of bench/ingest.py: a Starlette endpoint that reads the body, answers 202.

Served exactly like ``clearsignal serve`` serves ClearSignal (uvicorn, one worker, no
access log), so the ratio measures what our ingest path costs on top of the framework.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def post_events(request: Request) -> Response:
    await request.body()
    return Response(b'{"accepted":1,"dropped":{}}', 202, media_type="application/json")


app = Starlette(routes=[Route("/api/events", post_events, methods=["POST"])])
