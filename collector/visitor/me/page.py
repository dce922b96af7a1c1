"""The visitor's data explanation page, ``/me``, and its scripts and style sheet.

Static files from ``static/`` beside this module (``me.html``; ``me.js`` and the modules
it imports, ``me-api.js``, ``me-dom.js``, ``me-timeline.js`` and ``me-cases.js``; ``me-proof.js``, which
checks receipts in the browser; ``me.css``), served from the collector's own origin:
the page's script reads the browser id that the snippet keeps in first-party storage
(``localStorage.cs_id``), so /me must be served on the site's origin (the collector there, or a path the site proxies to it). Nothing is
inlined and nothing comes from elsewhere, so the page runs under a strict Content
Security Policy; the site is named in the query string (``/me?site=demo``), the browser
id never is.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.headers import page_headers

__all__ = ["ME_PAGE_ROUTES", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().with_name("static")
_FILES = {
    "/me": ("me.html", "text/html; charset=utf-8", "no-store"),
    "/me.js": ("me.js", "text/javascript; charset=utf-8", "no-cache"),
    "/me-api.js": ("me-api.js", "text/javascript; charset=utf-8", "no-cache"),
    "/me-dom.js": ("me-dom.js", "text/javascript; charset=utf-8", "no-cache"),
    "/me-timeline.js": ("me-timeline.js", "text/javascript; charset=utf-8", "no-cache"),
    "/me-cases.js": ("me-cases.js", "text/javascript; charset=utf-8", "no-cache"),
    "/me-proof.js": ("me-proof.js", "text/javascript; charset=utf-8", "no-cache"),
    "/me.css": ("me.css", "text/css; charset=utf-8", "no-cache"),
}

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


@cache
def _content(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _endpoint(name: str, media_type: str, cache_control: str) -> Endpoint:
    async def serve(request: Request) -> Response:
        headers = page_headers(cache_control)
        return Response(_content(name), headers=headers, media_type=media_type)

    return serve


ME_PAGE_ROUTES = [
    Route(path, _endpoint(*served), methods=["GET"]) for path, served in _FILES.items()
]
