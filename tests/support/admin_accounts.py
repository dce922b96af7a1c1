"""/admin accounts the tests sign in with, and signing in over HTTP.

Hashes use scrypt with N = 2^10 (the lowest cost the product accepts, ``admin.scrypt_ln``)
so that tests stay fast; the product hashes with N = 2^17.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from clearsignal.settings import AdminRole, AdminSettings, AdminUser
from collector.action_log import LoggedAction
from collector.admin.accounts import hash_password
from collector.admin.runtime import ADMIN_STATE, AdminRuntime
from collector.app import CollectorApp

__all__ = [
    "AGENT",
    "OFFICER",
    "OTHER_AGENT",
    "OWNER",
    "PASSWORDS",
    "SITE_OFFICER",
    "admin_runtime",
    "admin_settings",
    "agent",
    "csrf_token",
    "logged_actions",
    "sign_in",
    "site_officer",
]

OWNER, OFFICER, SITE_OFFICER = "owner", "officer", "site-officer"
AGENT, OTHER_AGENT = "agent", "agent-other"
PASSWORDS = {
    OWNER: "owner-password-0001",
    OFFICER: "officer-password-0001",
    SITE_OFFICER: "site-officer-password-0001",
    AGENT: "agent-password-0001",
    OTHER_AGENT: "agent-other-password-0001",
}
TEST_COST = 10
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@cache
def _hash(password: str) -> str:
    return hash_password(password, ln=TEST_COST)


def admin_settings(owner_sites: tuple[str, ...] = ("demo",), **options: Any) -> AdminSettings:
    """A site owner of ``owner_sites`` and a privacy officer of every site."""
    return AdminSettings(
        users=[
            AdminUser(
                username=OWNER,
                role=AdminRole.SITE_OWNER,
                password_hash=_hash(PASSWORDS[OWNER]),
                sites=list(owner_sites),
            ),
            AdminUser(
                username=OFFICER,
                role=AdminRole.PRIVACY_OFFICER,
                password_hash=_hash(PASSWORDS[OFFICER]),
            ),
        ],
        **({"scrypt_ln": TEST_COST} | options),
    )


def site_officer(*sites: str) -> AdminUser:
    """A privacy officer of ``sites`` only."""
    return AdminUser(
        username=SITE_OFFICER,
        role=AdminRole.PRIVACY_OFFICER,
        password_hash=_hash(PASSWORDS[SITE_OFFICER]),
        sites=list(sites),
    )


def agent(username: str, *sites: str) -> AdminUser:
    """A support agent of ``sites`` (``AGENT`` or ``OTHER_AGENT``)."""
    return AdminUser(
        username=username,
        role=AdminRole.SUPPORT_AGENT,
        password_hash=_hash(PASSWORDS[username]),
        sites=list(sites),
    )


def csrf_token(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found[1]


def sign_in(client: Any, username: str, password: str | None = None) -> Any:
    """Sign in through the form as a browser does; returns the answer to the POST."""
    form = client.get("/admin/login")
    assert form.status_code == 200
    return client.post(
        "/admin/login",
        data={
            "csrf": csrf_token(form.text),
            "username": username,
            "password": PASSWORDS[username] if password is None else password,
        },
        follow_redirects=False,
    )


def admin_runtime(client: Any) -> AdminRuntime:
    app = client.app
    assert isinstance(app, CollectorApp)
    return app.room_state(ADMIN_STATE, AdminRuntime)


def logged_actions(client: Any, action: str | None = None) -> list[LoggedAction]:
    """The admin action log, oldest first; only ``action`` rows if given."""
    found = reversed(admin_runtime(client).actions.recent(500))
    return [row for row in found if action is None or row.action == action]
