"""The analytics page's shared links: the list of a site's links, and the forms that make
and revoke one (``collector.admin.share_links``; the links' own pages: ``shared_page``)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from collector.action_log import AdminAction
from collector.admin.accounts import hash_password
from collector.admin.analytics_view import ANALYTICS_PATH
from collector.admin.guard import SECURITY_HEADERS, AdminContext
from collector.admin.pages import esc, field, hidden, table
from collector.admin.share_links import ShareLink
from collector.errors import PageRefused

__all__ = ["MAX_LABEL", "create_share_link", "revoke_share_link", "share_section"]

MAX_LABEL = 100


def share_section(context: AdminContext, site_id: str, links: list[ShareLink]) -> str:
    """The analytics page's list of the site's links, with forms to make and revoke one."""
    base = str(context.request.base_url).rstrip("/")
    rows = []
    for link in links:
        url = base + context.runtime.shares.path(link)
        state = "revoked" if not link.active else (
            f'<form method="post" action="{ANALYTICS_PATH}/share/revoke">'
            f'{hidden("csrf", context.csrf)}{hidden("site", site_id)}{hidden("link", link.link_id)}'
            f'<button type="submit">Revoke</button></form>'
        )  # fmt: skip
        shown = f"<code>{esc(url)}</code>" if link.active else "—"
        rows.append([
            esc(link.label or "(no label)"), shown, "yes" if link.password_hash else "no",
            esc(f"{link.created_at:%Y-%m-%d %H:%M} by {link.created_by}"), state,
        ])  # fmt: skip
    listing = table("Read-only links to this site's analytics",
                    ["Label", "Link", "Password", "Made", ""], rows)  # fmt: skip
    return (
        '<section aria-labelledby="share-h"><h2 id="share-h">Shared links</h2>'
        "<p>Whoever has a link reads this site's analytics, as on this page, without "
        "signing in, until the link is revoked.</p>"
        f'<form method="post" action="{ANALYTICS_PATH}/share" class="choose">'
        f"{hidden('csrf', context.csrf)}{hidden('site', site_id)}"
        f"{field('Label', 'label', '', maxlength=str(MAX_LABEL))}"
        f"{field('Password (optional)', 'password', '', 'password', autocomplete='new-password')}"
        f'<button type="submit">Make a link</button></form>{listing}</section>'
    )


def _back(site_id: str) -> Response:
    target = f"{ANALYTICS_PATH}?{urlencode({'site': site_id})}#share-h"
    return RedirectResponse(target, 303, headers=SECURITY_HEADERS)


async def create_share_link(context: AdminContext) -> Response:
    site = context.site(context.form.get("site"))
    assert context.user is not None  # a managers' route
    label = context.form.get("label", "").strip()[:MAX_LABEL]
    password = context.form.get("password", "")
    if password and len(password) < 8:
        raise PageRefused(400, "Password too short", "A link's password has 8 characters or more.")
    hashed = await context.runtime.hashing.run(hash_password, password) if password else ""
    link = await run_in_threadpool(
        context.runtime.shares.create, site.id, label, hashed, f"admin:{context.user.username}"
    )
    await context.log(AdminAction.CREATE_SHARE_LINK, site=site.id, detail=f"link={link.link_id}")
    return _back(site.id)


async def revoke_share_link(context: AdminContext) -> Response:
    site = context.site(context.form.get("site"))
    link_id = context.form.get("link", "")[:12]
    revoked = await run_in_threadpool(context.runtime.shares.revoke, site.id, link_id)
    if revoked is None:
        raise PageRefused(404, "No such link", "It was revoked already, or never was.")
    await context.log(AdminAction.REVOKE_SHARE_LINK, site=site.id, detail=f"link={link_id}")
    return _back(site.id)
