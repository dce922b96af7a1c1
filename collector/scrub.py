"""Scrubbing: what may leave the browser is not all that may be stored.

- query strings are reduced to the site's allow-list (``utm_*`` by default);
- fragments are dropped unless they are single-page-app routes (``#/path``);
- e-mail-, phone- and token-like substrings are removed from URLs and props;
- an external referrer is reduced to its origin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "referrer_origin", "scrub_mapping", "scrub_text", "scrub_url", "site_path"]

REDACTED = "[redacted]"
_SECRETS = re.compile(
    r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"  # e-mail, raw or URL-encoded
    r"|(?:\+|\b00)\d[\d ().\-/]{6,}\d"  # international phone number
    r"|\b\d{3}[ .\-]\d{3,4}[ .\-]\d{3,4}\b"  # national phone number with separators
    r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)?"  # JWT
    r"|\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{24,}\b"  # long token
)


def scrub_text(text: str) -> str:
    if not text:
        return text
    if len(text) <= _CACHED_TEXT:
        return _scrub_short(text)
    return _SECRETS.sub(REDACTED, text)


# Pages, props and element labels repeat across visitors: a scrubbed value is computed
# once per process for short strings (the regex costs microseconds per call). The caches
# live in memory only, bounded in entries and entry length; nothing of them is stored.
_CACHED_TEXT = 256


@lru_cache(maxsize=16_384)
def _scrub_short(text: str) -> str:
    return _SECRETS.sub(REDACTED, text)


@lru_cache(maxsize=256)
def _allow(patterns: tuple[str, ...], name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def scrub_url(url: str, allowlist: Sequence[str]) -> str:
    """The URL with only allow-listed query parameters, no secrets and no plain fragment."""
    if len(url) <= _CACHED_URL:
        return _scrub_url_cached(url, tuple(allowlist))
    return _scrub_url(url, tuple(allowlist))


_CACHED_URL = 512


@lru_cache(maxsize=16_384)
def _scrub_url_cached(url: str, allowlist: tuple[str, ...]) -> str:
    return _scrub_url(url, allowlist)


def _scrub_url(url: str, allowlist: tuple[str, ...]) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url.split("?", 1)[0].split("#", 1)[0])
    query = ""
    if parts.query:
        kept = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if _allow(allowlist, k)
        ]
        query = urlencode(kept)
    fragment = parts.fragment if parts.fragment.startswith("/") else ""
    cleaned = urlunsplit(
        (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, query, fragment)
    )
    return scrub_text(cleaned)


def site_path(url: str) -> str:
    """The path of an already scrubbed URL, with its SPA route if any: what pages are grouped by."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "/"
    path = parts.path or "/"
    return f"{path}#{parts.fragment}" if parts.fragment else path


def referrer_origin(referrer: str | None, page_url: str, allowlist: Sequence[str]) -> str:
    """Same-site referrers keep their scrubbed URL; others only their origin."""
    if not referrer:
        return ""
    try:
        ref, page = urlsplit(referrer), urlsplit(page_url)
    except ValueError:
        return ""
    if not ref.scheme or not ref.hostname:
        return ""
    if ref.hostname == page.hostname:
        return scrub_url(referrer, allowlist)
    return f"{ref.scheme}://{ref.hostname}"


def scrub_mapping(values: Mapping[str, object]) -> dict[str, str]:
    """Props or element attributes as strings, with secrets removed."""
    return {key: scrub_text(_as_text(value)) for key, value in values.items()}


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
