"""CORS for the ingest endpoint: a page may read our answer only if its origin is the site's.

The snippet posts ``text/plain`` JSON, a "simple" request: the browser sends it without a
preflight, but lets the page read the answer (or even learn it succeeded, with ``fetch``)
only when the response carries ``Access-Control-Allow-Origin`` naming the page's origin.

- A response on a covered path echoes the request's ``Origin`` only when that origin is
  one of the ``allowed_origins`` of the site the body named. The handler notes the site
  it parsed with ``note_site``; a body that named no site (400, 413, 415) or an unknown
  site gets no CORS header. Never ``*``: the answer depends on the origin, so every
  covered response says ``Vary: Origin``. ``POST /api/events`` is answered before the
  middleware stack (``collector.app``), so its endpoint adds the same headers itself,
  from the same ``SiteOrigins``.
- A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) carries
  no body, so no site: it is answered 204 when the origin is allowed for some configured
  site and only ``POST`` with ``Content-Type`` is asked for; otherwise 403 without CORS
  headers, so the browser does not send the request. The POST itself is then still
  checked against the named site by the pipeline.

Pure ASGI (no ``BaseHTTPMiddleware``): it adds one dict lookup per request on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearsignal.settings import SiteSettings

__all__ = ["SITE_SCOPE_KEY", "SiteCORSMiddleware", "SiteOrigins", "note_site"]

SITE_SCOPE_KEY = "clearsignal.site"
"""Where a handler leaves the site id its request body named (in the ASGI scope)."""

PREFLIGHT_MAX_AGE = "600"
ALLOWED_METHODS = ("POST",)
ALLOWED_REQUEST_HEADERS = frozenset({"content-type"})
EXPOSED_HEADERS = "Retry-After"


def note_site(scope: MutableMapping[str, Any], site: str) -> None:
    """Record the site a request named, for the CORS answer on the way out."""
    scope[SITE_SCOPE_KEY] = site


def _origin_key(origin: str) -> str:
    return origin.strip().lower()


class SiteOrigins:
    """Which origins each site allows, and the CORS headers of an answer about a site."""

    def __init__(self, sites: Iterable[SiteSettings]) -> None:
        self.by_site = {
            site.id: frozenset(_origin_key(o) for o in site.allowed_origins) for site in sites
        }
        self.of_any_site = frozenset().union(*self.by_site.values())

    def response_headers(self, site: object, origin: str | None) -> list[tuple[bytes, bytes]]:
        """``Vary: Origin``, and ``origin`` echoed when ``site`` (the site id the request
        named, if any) allows it."""
        allowed = self.by_site.get(site) if isinstance(site, str) else None
        if origin is None or allowed is None or _origin_key(origin) not in allowed:
            return [_VARY_ORIGIN]
        return [_VARY_ORIGIN, (b"access-control-allow-origin", origin.encode("latin-1")), _EXPOSE]


_VARY_ORIGIN = (b"vary", b"Origin")
_EXPOSE = (b"access-control-expose-headers", EXPOSED_HEADERS.encode())


class SiteCORSMiddleware:
    """Adds site-scoped CORS headers on ``paths`` and answers their preflights."""

    def __init__(
        self,
        app: ASGIApp,
        sites: Iterable[SiteSettings],
        paths: Iterable[str] = ("/api/events",),
    ) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.origins = SiteOrigins(sites)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if scope["method"] == "OPTIONS" and origin is not None:
            requested = _header(scope, b"access-control-request-method")
            if requested is not None:
                await self._preflight(scope, origin, requested, send)
                return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                cors = self.origins.response_headers(scope.get(SITE_SCOPE_KEY), origin)
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, origin: str, method: str, send: Send) -> None:
        asked_headers = _header(scope, b"access-control-request-headers") or ""
        unsupported = {
            name.strip().lower() for name in asked_headers.split(",") if name.strip()
        } - ALLOWED_REQUEST_HEADERS
        if _origin_key(origin) not in self.origins.of_any_site:
            problem = (
                f"origin {origin} is not allowed for any site; add it to the site's allowed_origins"
            )
        elif method.upper() not in ALLOWED_METHODS:
            problem = f"method {method} is not allowed; send POST"
        elif unsupported:
            problem = (
                f"request headers {', '.join(sorted(unsupported))} are not allowed; "
                "send only Content-Type"
            )
        else:
            problem = None
        if problem is not None:
            body = orjson.dumps({"error": "cors_not_allowed", "detail": problem})
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"vary", b"Origin"),
            ]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ", ".join(ALLOWED_METHODS).encode()),
            (b"access-control-allow-headers", b"Content-Type"),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
