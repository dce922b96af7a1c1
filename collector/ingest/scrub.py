"""Scrubbing: what may leave the browser is not all that may be stored.

- query strings are reduced to the site's allow-list (``utm_*`` by default);
- fragments are dropped unless they are single-page-app routes (``#/path``);
- e-mail-, phone- and token-like substrings are removed from URLs and props;
- an external referrer is reduced to its origin.

The patterns run on RE2 (google-re2), whose automaton takes time linear in the text
whatever the text is: no input makes them backtrack. Python's ``re`` took quadratic
time on runs such as ``a-a-a-...`` (every position a word boundary, every start a new
scan), 1.6 s of event-loop time for one batch within the wire's bounds. A token is told
from a long word by a check in Python on each candidate (a digit and a letter), which
RE2 has no lookahead for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import re2

from collector.memo import cached_when_short

__all__ = [
    "REDACTED",
    "page_url_and_path",
    "referrer_origin",
    "scrub_mapping",
    "scrub_text",
    "scrub_url",
    "site_path",
]

REDACTED = "[redacted]"
_SECRETS = re2.compile(
    r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"  # e-mail, raw or URL-encoded
    r"|(?:\+|\b00)\d[\d ().\-/]{6,}\d"  # international phone number
    r"|\b\d{3}[ .\-]\d{3,4}[ .\-]\d{3,4}\b"  # national phone number with separators
    r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)?"  # JWT
    r"|(\b[A-Za-z0-9_\-]{24,}\b)"  # a long run: a token if it mixes digits and letters
)
_DIGIT = re2.compile(r"[0-9]")
_LETTER = re2.compile(r"[A-Za-z]")


def _redact(match: Any) -> str:
    token: str | None = match.group(1)
    if token is not None and not (_DIGIT.search(token) and _LETTER.search(token)):
        return token  # a long word or number: not a secret
    return REDACTED


@cached_when_short(256)
def scrub_text(text: str) -> str:
    """The text with e-mail-, phone- and token-like substrings replaced by ``REDACTED``."""
    return _SECRETS.sub(_redact, text) if text else text


@lru_cache(maxsize=256)
def _allow(patterns: tuple[str, ...], name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def scrub_url(url: str, allowlist: Sequence[str]) -> str:
    """The URL with only allow-listed query parameters, no secrets and no plain fragment."""
    return page_url_and_path(url, tuple(allowlist))[0]


@cached_when_short(512)
def page_url_and_path(url: str, allowlist: tuple[str, ...]) -> tuple[str, str]:
    """``scrub_url`` of a page's URL, and the ``site_path`` its events are grouped by."""
    scrubbed = _scrub_url(url, allowlist)
    return scrubbed, site_path(scrubbed)


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


@cached_when_short(512)
def referrer_origin(referrer: str, page_url: str, allowlist: tuple[str, ...]) -> str:
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
    """Props or element attributes as strings, with secrets removed.

    Only string values can hold one: a number or boolean prints as digits, sign, point
    and exponent, which none of the secret patterns matches.
    """
    return {
        key: scrub_text(value) if isinstance(value, str) else _as_text(value)
        for key, value in values.items()
    }


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
