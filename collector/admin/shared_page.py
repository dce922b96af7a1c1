"""Shared links to a site's analytics: the team makes and revokes them on the analytics
page; whoever holds one reads that site's analytics without signing in, and nothing else.

``/admin/shared/<token>`` renders the analytics page (``analytics_page``) for the link's
site, its links kept under the link's path; ``<token>.csv`` downloads its tables. A link
with a password first asks for it: a right one sets a cookie for the link's path alone
(``PASS_HOURS``), wrong ones count against the link and the client as sign-ins do
(``collector.admin.lockout``). A revoked or forged link is 404. Opening a link, and each
wrong password, is a row of the admin action log under ``link:<id>``.
"""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from clearsignal.settings import SiteSettings
from collector.action_log import AdminAction, Outcome
from collector.admin.accounts import verify_password
from collector.admin.analytics_page import csv_response, render_analytics
from collector.admin.analytics_view import CSV_ROWS, csv_tables, view_for
from collector.admin.guard import LOGIN_COOKIE, SECURITY_HEADERS, AdminContext
from collector.admin.pages import esc, field, hidden
from collector.admin.share_links import SHARED_PATH, ShareLink
from collector.errors import PageRefused

__all__ = ["PASS_HOURS", "shared_csv", "shared_page", "shared_password"]

PASS_HOURS = 12
UNLOCKED_COOKIE = "cs_share_unlocked"


async def _link(context: AdminContext) -> ShareLink:
    token = str(context.request.path_params.get("token", ""))
    link = await run_in_threadpool(context.runtime.shares.find, token)
    if link is None:
        raise PageRefused(404, "No such link", "This link was revoked, or never was.")
    return link


async def _log(
    context: AdminContext, link: ShareLink, action: AdminAction, outcome: Outcome
) -> None:
    await run_in_threadpool(
        context.runtime.actions.record, action, username=f"link:{link.link_id}",
        role="shared_link", client=context.client, outcome=outcome, site=link.site,
    )  # fmt: skip


def _password_form(context: AdminContext, link: ShareLink, message: str, status: int) -> Response:
    nonce = secrets.token_urlsafe(18)
    token = context.runtime.codec.login_token(nonce)
    path = context.runtime.shares.path(link)
    alert = f'<p role="alert" class="error">{esc(message)}</p>' if message else ""
    body = (
        f"{alert}<p>This link to a site's analytics has a password.</p>"
        f'<form method="post" action="{esc(path)}">{hidden("csrf", token)}'
        f"{field('Password', 'password', '', 'password', autocomplete='current-password', required='required')}"
        '<button type="submit">Open</button></form>'
    )
    response = context.page("Shared analytics", body, status)
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=600, path="/admin", secure=context.secure,
        httponly=True, samesite="strict",
    )  # fmt: skip
    return response


def _site(context: AdminContext, link: ShareLink) -> SiteSettings:
    site = context.runtime.settings.site(link.site)
    if site is None:
        raise PageRefused(404, "No such link", "The link's site is no longer served.")
    return site


def _may_read(context: AdminContext, link: ShareLink) -> bool:
    if not link.password_hash:
        return True
    value = context.request.cookies.get(UNLOCKED_COOKIE, "")
    return context.runtime.shares.pass_holds(link, value, context.runtime.clock())


async def shared_page(context: AdminContext) -> Response:
    link = await _link(context)
    if not _may_read(context, link):
        return _password_form(context, link, "", 200)
    site = _site(context, link)
    view = await view_for(context.runtime, site, context.request.query_params)
    await _log(context, link, AdminAction.VIEW_SHARED, Outcome.OK)
    body = render_analytics(view, context.runtime.shares.path(link), None)
    return context.page(f"Analytics: {site.name or site.id} (shared, read only)", body)


async def shared_csv(context: AdminContext) -> Response:
    link = await _link(context)
    if not _may_read(context, link):
        raise PageRefused(403, "Password needed", "Open the link and give its password first.")
    query = context.request.query_params
    name, only = csv_tables(query)
    view = await view_for(context.runtime, _site(context, link), query, CSV_ROWS, only)
    return csv_response(view, name)


async def shared_password(context: AdminContext) -> Response:
    link = await _link(context)
    runtime = context.runtime
    keys = (f"share:{link.link_id}", f"client:{context.client}")
    if runtime.hashing.full:
        return _password_form(context, link, "Too many at once. Try again in a moment.", 429)
    attempt = runtime.lockout.attempt(keys)
    if not attempt.allowed:
        return _password_form(context, link, "Too many wrong passwords. Try again later.", 429)
    given = context.form.get("password", "")
    if not link.password_hash or not await runtime.hashing.run(
        verify_password, given, link.password_hash
    ):
        await _log(context, link, AdminAction.SHARE_REFUSED, Outcome.REFUSED)
        return _password_form(context, link, "That is not the link's password.", 401)
    runtime.lockout.succeed(keys)
    expires = int(runtime.clock()) + PASS_HOURS * 3600
    path = runtime.shares.path(link)
    response = RedirectResponse(path, 303, headers=SECURITY_HEADERS)
    response.set_cookie(
        UNLOCKED_COOKIE, runtime.shares.pass_value(link, expires), max_age=PASS_HOURS * 3600,
        path=path, secure=context.secure, httponly=True, samesite="strict",
    )  # fmt: skip
    return response


assert SHARED_PATH.startswith("/admin/")
