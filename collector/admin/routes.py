"""The /admin route table: every route with the roles that may use it.

This table is the only way /admin routes enter the app (``ADMIN_ROUTES``, mounted by
``admin_room()``), and every row passes the guard in ``collector.admin.guard``; the
tests enumerate the app's router and check each /admin route against it.

A ``site_owner`` reaches the dashboard (aggregates only) and its sites' API keys, and
nothing with a visitor key or receipt id in it; a ``privacy_officer`` reaches those and
the console; a ``support_agent`` reaches the dashboard and its sites' inbox (the cases
of customers who allow personalization), not the keys.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from clearsignal.settings import AdminRole
from collector.admin.analytics_page import analytics, analytics_csv
from collector.admin.analytics_view import ANALYTICS_PATH
from collector.admin.case_page import act_on_case, case_page
from collector.admin.console_pages import consent_log, erasures, receipt
from collector.admin.console_tools import (
    actions,
    export_download,
    export_form,
    ropa,
    verify_form,
    verify_run,
)
from collector.admin.dashboard_page import dashboard
from collector.admin.guard import (
    MANAGERS,
    SECURITY_HEADERS,
    AdminContext,
    AdminRoute,
    guarded_endpoint,
)
from collector.admin.inbox import inbox
from collector.admin.keys_page import create_key, keys_page, revoke_key
from collector.admin.login import home, login_form, login_submit, logout
from collector.admin.share_forms import create_share_link, revoke_share_link
from collector.admin.share_links import SHARED_PATH
from collector.admin.shared_page import shared_csv, shared_page, shared_password
from collector.rooms import Room

__all__ = ["ADMIN_PATH", "ADMIN_ROUTES", "admin_room"]

ADMIN_PATH = "/admin"

STYLE_SHEET = Path(__file__).resolve().with_name("static") / "admin.css"
OPEN: frozenset[AdminRole] = frozenset()
EVERY_ROLE = frozenset(AdminRole)
OFFICER = frozenset({AdminRole.PRIVACY_OFFICER})
AGENT = frozenset({AdminRole.SUPPORT_AGENT})


@cache
def _style() -> bytes:
    return STYLE_SHEET.read_bytes()


async def style_sheet(context: AdminContext) -> Response:
    headers = SECURITY_HEADERS | {"Cache-Control": "no-cache"}
    return Response(_style(), 200, headers, media_type="text/css; charset=utf-8")


ADMIN_ROUTES: list[AdminRoute] = [
    AdminRoute("/admin/admin.css", style_sheet, roles=OPEN),
    AdminRoute("/admin/login", login_form, roles=OPEN),
    AdminRoute("/admin/login", login_submit, ("POST",), roles=OPEN),
    AdminRoute("/admin/logout", logout, ("POST",), roles=EVERY_ROLE),
    AdminRoute("/admin", home, roles=EVERY_ROLE),
    AdminRoute(ANALYTICS_PATH, analytics, roles=EVERY_ROLE, nav="Analytics"),
    AdminRoute(ANALYTICS_PATH + ".csv", analytics_csv, roles=EVERY_ROLE),
    AdminRoute(ANALYTICS_PATH + "/share", create_share_link, ("POST",), roles=MANAGERS),
    AdminRoute(ANALYTICS_PATH + "/share/revoke", revoke_share_link, ("POST",), roles=MANAGERS),
    AdminRoute(SHARED_PATH + "/{token}.csv", shared_csv, roles=OPEN),
    AdminRoute(SHARED_PATH + "/{token}", shared_page, roles=OPEN),
    AdminRoute(SHARED_PATH + "/{token}", shared_password, ("POST",), roles=OPEN),
    AdminRoute("/admin/dashboard", dashboard, roles=EVERY_ROLE, nav="Dashboard"),
    AdminRoute("/admin/inbox", inbox, roles=AGENT, nav="Inbox"),
    AdminRoute("/admin/inbox/{site}/{case_id}", case_page, roles=AGENT),
    AdminRoute("/admin/inbox/{site}/{case_id}", act_on_case, ("POST",), roles=AGENT),
    AdminRoute("/admin/keys", keys_page, roles=MANAGERS, nav="API keys"),
    AdminRoute("/admin/keys", create_key, ("POST",), roles=MANAGERS),
    AdminRoute("/admin/keys/revoke", revoke_key, ("POST",), roles=MANAGERS),
    AdminRoute("/admin/console", consent_log, roles=OFFICER, nav="Consent log"),
    AdminRoute("/admin/console/receipts/{receipt_id}", receipt, roles=OFFICER),
    AdminRoute("/admin/console/erasures", erasures, roles=OFFICER, nav="Erasure requests"),
    AdminRoute("/admin/console/verify", verify_form, roles=OFFICER, nav="Verify the log"),
    AdminRoute("/admin/console/verify", verify_run, ("POST",), roles=OFFICER),
    AdminRoute("/admin/console/export", export_form, roles=OFFICER, nav="Export"),
    AdminRoute("/admin/console/export", export_download, ("POST",), roles=OFFICER),
    AdminRoute("/admin/console/ropa", ropa, roles=OFFICER, nav="Record of processing"),
    AdminRoute("/admin/console/actions", actions, roles=OFFICER, nav="Admin actions"),
]


def admin_room() -> Room:
    """The table as the app mounts it: ``/admin`` itself is the room's entrance."""
    inside = []
    entrance = None
    for row in ADMIN_ROUTES:
        endpoint = guarded_endpoint(row, ADMIN_ROUTES)
        if row.path == ADMIN_PATH:
            entrance = endpoint
        else:
            path = row.path.removeprefix(ADMIN_PATH)
            inside.append(Route(path, endpoint, methods=list(row.methods)))
    assert entrance is not None, "the table has no row for /admin itself"
    return Room(ADMIN_PATH, inside, entrance)
