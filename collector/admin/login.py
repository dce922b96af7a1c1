"""Signing in and out of /admin, and /admin itself (which sends each role to its start page).

A failed sign-in says only that the name or password is wrong, whichever it was, and takes
as long either way. Failures count towards the lockout per username and per client; a
locked sign-in is refused even with the right password. Every attempt is logged.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from clearsignal.settings import AdminRole
from collector.action_log import AdminAction, Outcome
from collector.admin.guard import (
    LOGIN_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    AdminContext,
    cookie_options,
)
from collector.admin.pages import esc, field, hidden

__all__ = ["home", "login_form", "login_submit", "logout"]

LOGIN_FORM_SECONDS = 3600
START_PAGES = {
    AdminRole.SITE_OWNER: "/admin/dashboard",
    AdminRole.PRIVACY_OFFICER: "/admin/console",
    AdminRole.SUPPORT_AGENT: "/admin/inbox",
}


def _next_page(wanted: str | None) -> str:
    """Where to go after sign-in: a path under /admin, never another origin."""
    if not wanted:
        return "/admin"
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or "\\" in wanted:
        return "/admin"
    return wanted


def _form(context: AdminContext, nonce: str, message: str = "", status: int = 200) -> Response:
    token = context.runtime.codec.login_token(nonce)
    wanted = context.form.get("next") or context.request.query_params.get("next", "")
    alert = f'<p class="error" role="alert">{esc(message)}</p>' if message else ""
    body = (
        f'{alert}<form method="post" action="/admin/login" class="login">'
        f"{hidden('csrf', token)}{hidden('next', _next_page(wanted))}"
        f"<p>{field('Username', 'username', context.form.get('username', ''), autocomplete='username', required='')}</p>"
        f"<p>{field('Password', 'password', '', 'password', autocomplete='current-password', required='')}</p>"
        '<p><button type="submit">Sign in</button></p></form>'
        "<p>Accounts are set in the settings (<code>admin.users</code>) or with "
        "<code>clearsignal admin add-user</code>.</p>"
    )
    response = context.page("Sign in", body, status)
    response.set_cookie(LOGIN_COOKIE, nonce, **cookie_options(context, LOGIN_FORM_SECONDS))
    return response


async def login_form(context: AdminContext) -> Response:
    if context.user is not None:
        return RedirectResponse("/admin", 303, headers=SECURITY_HEADERS)
    return _form(context, secrets.token_urlsafe(18))


async def login_submit(context: AdminContext) -> Response:
    runtime, form = context.runtime, context.form
    username = form.get("username", "").strip().lower()[:64]
    context.form["username"] = username
    keys = (f"user:{username}", f"client:{context.client}")
    nonce = secrets.token_urlsafe(18)
    if runtime.hashing.full:
        return _form(context, nonce, "Too many sign-ins at once. Try again in a moment.", 429)
    attempt = runtime.lockout.attempt(keys)
    if not attempt.allowed:
        await context.log(AdminAction.LOGIN_FAILED, Outcome.REFUSED, detail="locked out")
        minutes = max(1, round(runtime.lockout.locked_for(keys) / 60))
        message = (
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )
        return _form(context, nonce, message, 429)
    signed_in = await runtime.hashing.run(
        runtime.accounts.authenticate, username, form.get("password", "")
    )
    if signed_in is None:
        await context.log(
            AdminAction.LOGIN_FAILED, Outcome.REFUSED, detail="wrong name or password"
        )
        if attempt.locks:
            await context.log(
                AdminAction.LOCKOUT, Outcome.REFUSED,
                detail=f"{runtime.lockout.max_failures} failures; locked for "
                f"{runtime.lockout.lock_for / 60:g} minutes",
            )  # fmt: skip
        return _form(context, nonce, "The username or password is wrong.", 401)
    runtime.lockout.succeed(keys)
    user = signed_in.user
    if signed_in.outdated:  # before the session: it names the account's current hash
        user = await runtime.hashing.run(runtime.accounts.rehash, user, form.get("password", ""))
    cookie, _ = runtime.codec.issue(user, runtime.clock())
    context.user = user
    await context.log(AdminAction.LOGIN)
    response = RedirectResponse(_next_page(form.get("next")), 303, headers=SECURITY_HEADERS)
    response.set_cookie(SESSION_COOKIE, cookie, **cookie_options(context, runtime.codec.lifetime))
    response.delete_cookie(
        LOGIN_COOKIE, path="/admin", secure=context.secure, httponly=True, samesite="strict"
    )
    return response


async def logout(context: AdminContext) -> Response:
    assert context.session is not None  # the guard lets no one in without a session
    await run_in_threadpool(
        context.runtime.codec.revocations.revoke, context.session, context.runtime.clock()
    )
    await context.log(AdminAction.LOGOUT)
    response = RedirectResponse("/admin/login", 303, headers=SECURITY_HEADERS)
    response.delete_cookie(
        SESSION_COOKIE, path="/admin", secure=context.secure, httponly=True, samesite="strict"
    )
    return response


async def home(context: AdminContext) -> Response:
    assert context.user is not None
    return RedirectResponse(START_PAGES[context.user.role], 303, headers=SECURITY_HEADERS)
