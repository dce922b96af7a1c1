"""Which web origin a request comes from, and whether a site accepts it."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from starlette.requests import Request

from clearsignal.settings import SiteSettings

__all__ = ["origin_of", "request_origin", "site_accepts"]


@lru_cache(maxsize=1024)
def origin_of(value: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL or Origin header value, lowercased; None if none.

    Remembered: every request of a site sends one of a few values (in memory only).
    """
    if not value:
        return None
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
