"""Errors of the collector package: one root, and what a refused request is answered.

    CollectorError
     ├── RequestRefused      an API request answered with its status and a JSON body
     │    │                  saying what to fix (400, 401, 403, 404, 409, 413, 415, 429)
     │    └── VisitorRefused     a visitor's own request: never cached; a 401 names the
     │                           ClearSignal-Visitor scheme (``collector.visitor.auth``)
     └── PageRefused         an /admin page answered with its status and a page saying
                             what to do (``collector.admin.guard``)

Endpoints raise; the app's exception handler answers ``RequestRefused`` with its
``response()``; the admin guard renders ``PageRefused`` inside the admin frame. The
ingest endpoint, answered before the middleware stack, answers its own.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "CollectorError",
    "PageRefused",
    "RequestRefused",
    "refused_handler",
]


class CollectorError(Exception):
    """Base class of the errors the collector raises on purpose."""


class RequestRefused(CollectorError):
    """A request we answer with ``status`` and a JSON ``body`` saying what to fix."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body.get('error', '')}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body), self.status, self.headers, media_type="application/json"
        )


class PageRefused(CollectorError):
    """An answer other than the page: a status and what the person should do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(f"{status} {title}")
        self.status, self.title, self.message = status, title, message


async def refused_handler(request: Request, exc: Exception) -> Response:
    """The app's handler of ``RequestRefused``."""
    assert isinstance(exc, RequestRefused)
    return exc.response()
