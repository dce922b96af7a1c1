"""The one guard every /admin route passes through, and the route table's row type.

An ``AdminRoute`` declares the roles that may use it (none: the sign-in page and the
style sheet). For every request the guard reads the session cookie and the account
behind it; a page asked for without a session redirects to the sign-in page, a form
posted without one is refused with 401, and a role not declared is refused with 403
(and logged). Every POST must be an urlencoded form carrying the CSRF token bound to
its session (or, for sign-in, to the sign-in form's nonce cookie), else 403. Every
answer carries ``Cache-Control: no-store`` and a Content Security Policy that allows
nothing but this origin's style sheet: the pages have no script at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from clearsignal.settings import AdminRole, AdminUser, SiteSettings
from collector.action_log import AdminAction, Outcome
from collector.admin.pages import Nav, esc, render_page
from collector.admin.runtime import AdminRuntime, admin_runtime
from collector.admin.sessions import AdminSession
from collector.errors import PageRefused
from collector.headers import SCRIPTLESS_POLICY, page_headers

__all__ = [
    "LOGIN_COOKIE",
    "MANAGERS",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "AdminContext",
    "AdminRoute",
    "cookie_options",
    "guarded_endpoint",
]

SESSION_COOKIE = "cs_admin"
LOGIN_COOKIE = "cs_admin_login"
MANAGERS = frozenset({AdminRole.SITE_OWNER, AdminRole.PRIVACY_OFFICER})
"""The roles that manage a site's access: its API keys and shared links."""
COOKIE_PATH = "/admin"
FORM_LIMIT = 16 * 1024
SECURITY_HEADERS = page_headers("no-store", SCRIPTLESS_POLICY)
ALL_ROLES = frozenset(AdminRole)


@dataclass
class AdminContext:
    """One admin request as an endpoint sees it."""

    request: Request
    runtime: AdminRuntime
    client: str
    nav: list[Nav]
    session: AdminSession | None = None
    user: AdminUser | None = None
    form: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    @property
    def secure(self) -> bool:
        return self.request.url.scheme == "https"

    async def log(
        self, action: AdminAction, outcome: Outcome = Outcome.OK, site: str = "", detail: str = ""
    ) -> None:
        await run_in_threadpool(
            self.runtime.actions.record,
            action,
            username=self.user.username if self.user else self.form.get("username", ""),
            role=self.user.role.value if self.user else "",
            client=self.client,
            outcome=outcome,
            site=site,
            detail=detail,
        )

    def sites(self) -> list[SiteSettings]:
        """The sites this account may see, in settings order."""
        every = self.runtime.settings.sites
        if self.user is None:
            return []
        return [site for site in every if not self.user.sites or site.id in self.user.sites]

    def site(self, site_id: str | None) -> SiteSettings:
        """The asked-for site (or the first one) if this account may see it, else 404."""
        allowed = self.sites()
        if not allowed:
            raise PageRefused(404, "No site", "This account may not see any configured site.")
        if not site_id:
            return allowed[0]
        found = next((site for site in allowed if site.id == site_id), None)
        if found is None:
            raise PageRefused(
                404, "Unknown site", f"There is no site {site_id!r} for this account."
            )
        return found

    def page(self, title: str, body: str, status: int = 200) -> Response:
        html = render_page(title, body, self.nav, self.user, self.csrf, self.request.url.path)
        return Response(html, status, SECURITY_HEADERS, media_type="text/html; charset=utf-8")


Endpoint = Callable[[AdminContext], Awaitable[Response]]


@dataclass(frozen=True)
class AdminRoute:
    path: str
    endpoint: Endpoint
    methods: tuple[str, ...] = ("GET",)
    roles: frozenset[AdminRole] = ALL_ROLES  # empty: open without a session
    nav: str | None = None  # the label of its link in the header, if it has one


async def _read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise PageRefused(415, "Not a form", "Send the page's form as it is.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise PageRefused(413, "Form too large", f"A form may hold {FORM_LIMIT} bytes.")
    try:
        fields = parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50
        )
    except ValueError:
        raise PageRefused(400, "Not this form", "Send the page's form as it is.") from None
    return dict(fields)


def _client(request: Request, runtime: AdminRuntime) -> str:
    return runtime.codec.client_tag(request.client.host if request.client else "")


def _login_redirect(request: Request) -> Response:
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/admin/login?{urlencode({'next': wanted})}"
    return RedirectResponse(target, 303, headers=SECURITY_HEADERS)


async def _authorise(
    route: AdminRoute, context: AdminContext, table: list[AdminRoute]
) -> Response | None:
    """Fill in the session, navigation and form; an answer if the request may not go on."""
    request, runtime = context.request, context.runtime
    now = runtime.clock()
    session = runtime.codec.read(request.cookies.get(SESSION_COOKIE), now)
    if session is not None:
        user = await run_in_threadpool(runtime.accounts.find, session.username)
        if user is not None and runtime.codec.still_valid_for(session, user):
            context.session, context.user = session, user
            context.csrf = runtime.codec.csrf_token(session)
            context.nav = [
                Nav(row.nav, row.path) for row in table if row.nav and user.role in row.roles
            ]
    if route.roles and context.user is None:
        if request.method == "GET":
            return _login_redirect(request)
        raise PageRefused(401, "Signed out", "Your session has ended. Sign in again.")
    if context.user is not None and route.roles and context.user.role not in route.roles:
        await context.log(AdminAction.REFUSED_ROLE, Outcome.REFUSED, detail=request.url.path)
        raise PageRefused(
            403, "Not for this account", "This account's role may not open this page."
        )
    if request.method == "POST":
        context.form = await _read_form(request)
        if context.session is not None and route.roles:
            expected = runtime.codec.csrf_token(context.session)
        else:
            expected = runtime.codec.login_token(request.cookies.get(LOGIN_COOKIE, ""))
            if not request.cookies.get(LOGIN_COOKIE):
                expected = ""
        if not expected or not runtime.codec.token_matches(expected, context.form.get("csrf")):
            await context.log(AdminAction.REFUSED_CSRF, Outcome.REFUSED, detail=request.url.path)
            raise PageRefused(
                403,
                "Form expired",
                "This form was not issued for your session. Load the page again.",
            )
    return None


def _guard(route: AdminRoute, table: list[AdminRoute]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        runtime = admin_runtime(request)
        context = AdminContext(request, runtime, _client(request, runtime), [])
        try:
            early = await _authorise(route, context, table)
            if early is not None:
                return early
            return await route.endpoint(context)
        except PageRefused as refused:
            return context.page(refused.title, f"<p>{esc(refused.message)}</p>", refused.status)

    return endpoint


def guarded_endpoint(
    route: AdminRoute, table: list[AdminRoute]
) -> Callable[[Request], Awaitable[Response]]:
    """``route``'s endpoint behind the guard (``table``: every route, for the navigation)."""
    return _guard(route, table)


def cookie_options(context: AdminContext, max_age: int) -> dict[str, Any]:
    return {
        "max_age": max_age,
        "path": COOKIE_PATH,
        "secure": context.secure,
        "httponly": True,
        "samesite": "strict",
    }
