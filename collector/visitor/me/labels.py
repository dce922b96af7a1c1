"""Plain-language labels of a visitor's events, for their timeline on /me.

"Viewed Pricing", "Clicked “Add to cart”", "Left form checkout unfinished": the kind of
page comes from the site's page patterns (``sites.pages``, the same shell-style patterns
the signal rules use). The page adds the time in the visitor's own time zone
("Viewed Pricing — 4 March 10:12").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from urllib.parse import urlsplit

from clearsignal.settings import PageSettings

__all__ = ["PAGE_KINDS", "event_label", "page_kind"]

# Most specific first: a shipping step is also a checkout page.
PAGE_KINDS = {
    "purchase": "Order confirmation",
    "shipping": "Shipping costs",
    "checkout": "Checkout",
    "pricing": "Pricing",
    "help": "Help and FAQ",
    "contact": "Contact",
}


@cache
def _pattern(shell: str) -> re.Pattern[str]:
    """A shell-style pattern (``*`` any run, ``?`` one character) as the SQL LIKE reads it."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in shell)
    return re.compile("".join(parts), re.DOTALL)


def page_kind(pages: PageSettings, path: str) -> str | None:
    """Which kind of page a path is (a key of ``PAGE_KINDS``), or None."""
    for kind in PAGE_KINDS:
        if any(_pattern(p).fullmatch(path) for p in getattr(pages, kind)):
            return kind
    return None


def _page(pages: PageSettings, path: str) -> str:
    kind = page_kind(pages, path)
    return PAGE_KINDS[kind] if kind else path or "a page"


def _element(element: Mapping[str, str]) -> str:
    label = element.get("label") or element.get("id") or element.get("sel") or ""
    return f"“{label}”" if label else f"a {element.get('tag') or 'part of the page'}"


def _seconds(milliseconds: str) -> int:
    try:
        return round(float(milliseconds) / 1000)
    except ValueError:
        return 0


def event_label(
    pages: PageSettings,
    event_type: str,
    name: str,
    path: str,
    props: Mapping[str, str],
    element: Mapping[str, str],
) -> str:
    """What the visitor did, in words, without the time."""
    page = _page(pages, path)
    form = props.get("form") or "a form"
    match event_type:
        case "pageview":
            return f"Viewed {page}"
        case "click":
            return f"Clicked {_element(element)} on {page}"
        case "outbound":
            host = urlsplit(element.get("href", "")).hostname
            return f"Followed a link to {host or 'another site'}"
        case "download":
            return f"Downloaded {_element(element)}"
        case "scroll":
            return f"Scrolled {props.get('depth', '?')}% down {page}"
        case "engagement":
            return f"Spent {_seconds(props.get('ms', ''))} s on {page}"
        case "rage_click":
            return f"Clicked {_element(element)} repeatedly on {page}"
        case "dead_click":
            return f"Clicked {_element(element)}, which did nothing"
        case "form_start":
            return f"Started filling in {form}"
        case "form_submit":
            return f"Sent {form}"
        case "form_abandon":
            return f"Left {form} unfinished (fields: {props.get('fields') or 'none'})"
        case "step":
            return f"Reached the step “{name}”"
        case _:
            return f"Event “{name or event_type}” on {page}"
