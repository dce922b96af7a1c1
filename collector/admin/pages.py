"""The HTML of /admin pages: one layout, and the small pieces pages are made of.

Every value is escaped with ``html.escape`` where it is put into the page (``esc``);
functions here take text and return HTML, and their callers pass HTML only from other
functions here or from ``collector.admin.charts``. Each page has one ``h1`` (its title,
also in ``<title>``), a skip link, a labelled navigation and the sign-out form.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from clearsignal.settings import AdminUser

__all__ = [
    "Nav",
    "esc",
    "fewer_than",
    "field",
    "hidden",
    "render_page",
    "select",
    "table",
]

ROLE_NAMES = {
    "site_owner": "site owner",
    "privacy_officer": "privacy officer",
    "support_agent": "support agent",
}


@dataclass(frozen=True)
class Nav:
    label: str
    path: str


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def field(label: str, name: str, value: str = "", kind: str = "text", **attributes: str) -> str:
    """A labelled input; ``attributes`` are added as they are named (``_`` becomes ``-``)."""
    extra = "".join(f' {esc(k.replace("_", "-"))}="{esc(v)}"' for k, v in attributes.items())
    return (
        f'<label for="{esc(name)}">{esc(label)}</label>'
        f'<input id="{esc(name)}" name="{esc(name)}" type="{esc(kind)}" value="{esc(value)}"{extra}>'
    )


def select(label: str, name: str, options: Sequence[tuple[str, str]], chosen: str) -> str:
    """A labelled drop-down of (value, text) options."""
    shown = "".join(
        f'<option value="{esc(value)}"{" selected" if value == chosen else ""}>{esc(text)}</option>'
        for value, text in options
    )
    return f'<label for="{esc(name)}">{esc(label)}</label><select id="{esc(name)}" name="{esc(name)}">{shown}</select>'


def fewer_than(k: int) -> str:
    return f'<span class="suppressed">fewer than {k}</span>'


def table(
    caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """A data table; ``rows`` hold HTML cells, ``numeric`` columns are right-aligned."""
    head = "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>{esc(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i in numeric else ''}>{cell}</td>" for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">Nothing to show.</td></tr>'
    return (
        f"<table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _header(nav: Sequence[Nav], user: AdminUser | None, csrf: str, current: str) -> str:
    if user is None:
        return '<header><p class="brand">ClearSignal admin</p></header>'
    here = ' aria-current="page"'
    links = "".join(
        f'<li><a href="{esc(item.path)}"{here if item.path == current else ""}>'
        f"{esc(item.label)}</a></li>"
        for item in nav
    )
    role = ROLE_NAMES.get(user.role.value, user.role.value)
    return (
        '<header><p class="brand">ClearSignal admin</p>'
        f'<nav aria-label="Admin sections"><ul>{links}</ul></nav>'
        f'<p class="who">Signed in as <strong>{esc(user.username)}</strong> ({esc(role)})</p>'
        f'<form method="post" action="/admin/logout" class="logout">{hidden("csrf", csrf)}'
        '<button type="submit" id="sign-out">Sign out</button></form></header>'
    )


def render_page(
    title: str,
    body: str,
    nav: Sequence[Nav],
    user: AdminUser | None,
    csrf: str,
    current: str,
) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)} — ClearSignal admin</title>"
        '<link rel="stylesheet" href="/admin/admin.css"></head><body>'
        '<a class="skip" href="#main">Skip to the content</a>'
        f"{_header(nav, user, csrf, current)}"
        f'<main id="main" tabindex="-1"><h1>{esc(title)}</h1>{body}</main></body></html>'
    )
