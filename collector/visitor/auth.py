"""How a visitor proves who they are to their own data: the browser id, in a header.

The browser id is a bearer secret (docs/design.md, "Identity"), so it never travels in a URL,
where logs, caches and the Referer header would keep it. A visitor's own requests
(``/api/me``) carry it as::

    Authorization: ClearSignal-Visitor <browser id>

and name the site in the query string (``?site=demo``: a site id is not personal). The
stored pseudonym is HMAC(site key, browser id), so an id presented to another site than
the one it was made for finds nothing there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from clearsignal.settings import SiteSettings
from collector.errors import RequestRefused
from collector.state import collector_state
from collector.wire_types import BROWSER_ID_PATTERN

__all__ = [
    "NO_STORE",
    "VISITOR_SCHEME",
    "VisitorCredentials",
    "VisitorRefused",
    "has_visitor_header",
    "site_in_query",
    "visitor_credentials",
]

VISITOR_SCHEME = "ClearSignal-Visitor"
_BROWSER_ID = re.compile(BROWSER_ID_PATTERN)
NO_STORE = {"Cache-Control": "no-store"}


class VisitorRefused(RequestRefused):
    """A refused visitor request; its answer is never cached (and a 401 names the scheme)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        headers = dict(NO_STORE)
        if status == 401:
            headers["WWW-Authenticate"] = VISITOR_SCHEME
        super().__init__(status, body, headers)


@dataclass(frozen=True)
class VisitorCredentials:
    site: SiteSettings
    browser_id: str


def has_visitor_header(request: Request) -> bool:
    return "authorization" in request.headers


def _unauthorized(detail: str) -> VisitorRefused:
    return VisitorRefused(401, {"error": "no_visitor_id", "detail": detail})


def visitor_credentials(request: Request) -> VisitorCredentials:
    """The site and browser id of a visitor's own request; 401 or 400 saying what is wrong."""
    scheme, _, browser_id = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != VISITOR_SCHEME.lower() or not browser_id:
        raise _unauthorized(
            f"send the browser id as 'Authorization: {VISITOR_SCHEME} <id>'; "
            "the site's snippet keeps it in localStorage (cs_id) after an analytics grant"
        )
    if not _BROWSER_ID.fullmatch(browser_id.strip()):
        raise _unauthorized("the browser id must be 22 characters of A-Z, a-z, 0-9, '-' or '_'")
    return VisitorCredentials(site_in_query(request), browser_id.strip())


def site_in_query(request: Request) -> SiteSettings:
    """The configured site that ``?site=<id>`` names; 403 ``unknown_site`` otherwise."""
    settings = collector_state(request).settings
    site_id = request.query_params.get("site", "")
    site = settings.site(site_id)
    if site is None:
        raise VisitorRefused(
            403,
            {
                "error": "unknown_site",
                "detail": f"name a configured site (?site=<id>), not {site_id!r}",
            },
        )
    return site
