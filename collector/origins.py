"""Which web origin a request comes from, and whether a site accepts it."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from clearsignal.settings import SiteSettings
from collector.memo import cached_when_short

__all__ = ["origin_of", "request_origin", "site_accepts"]


def origin_of(value: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL or Origin header value, lowercased; None if none.

    Remembered for short values: every request of a site sends one of a few (in memory
    only; a long Referer is parsed each time, never kept).
    """
    return _origin_of(value) if value else None


@cached_when_short(256, entries=1024)
def _origin_of(value: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def request_origin(request: Request) -> str | None:
    headers = request.headers
    return origin_of(headers.get("origin")) or origin_of(headers.get("referer"))


def site_accepts(request: Request, site: SiteSettings, own_pages: bool = False) -> bool:
    """True if the request comes from one of the site's origins (or, with ``own_pages``,
    from a page ClearSignal serves itself, such as /me)."""
    origin = request_origin(request)
    if origin is None:
        return False
    if origin in {o.lower() for o in site.allowed_origins}:
        return True
    return own_pages and origin == origin_of(str(request.base_url))
