"""Demo accounts, so that a newcomer can sign in to /admin after ``make run``.

``clearsignal serve`` in demo mode, when no account exists anywhere (settings or users
file), creates ``owner`` (site_owner of every site), ``officer`` (privacy_officer) and
``agent`` (support_agent of every site: the inbox), each with a random password written once to the server log. Only the scrypt hashes are
kept, in the users file; ``clearsignal admin add-user NAME`` sets a new password.
"""

from __future__ import annotations

import logging
import secrets

from clearsignal.settings import AdminRole, AdminUser, Settings
from clearsignal.settings.admin import SCOPED_ROLES
from collector.admin.accounts import AdminAccounts, hash_password, save_file_user

__all__ = ["announce_demo_accounts", "create_demo_accounts"]

log = logging.getLogger("clearsignal.admin")


def create_demo_accounts(settings: Settings) -> dict[str, str]:
    """The demo accounts' passwords by username, if they were created now; else nothing."""
    accounts = AdminAccounts(settings)
    if not settings.demo or accounts.all():
        return {}
    created = {}
    demo = (
        ("owner", AdminRole.SITE_OWNER),
        ("officer", AdminRole.PRIVACY_OFFICER),
        ("agent", AdminRole.SUPPORT_AGENT),
    )
    for username, role in demo:
        password = secrets.token_urlsafe(15)
        sites = [site.id for site in settings.sites] if role in SCOPED_ROLES else []
        hashed = hash_password(password, settings.admin.scrypt_ln)
        user = AdminUser(username=username, role=role, password_hash=hashed, sites=sites)
        save_file_user(accounts.path, user)
        created[username] = password
    return created


def announce_demo_accounts(settings: Settings) -> None:
    """Create the demo accounts if there are none, and say once how to sign in."""
    for username, password in create_demo_accounts(settings).items():
        log.warning(
            "demo account for /admin: %s, password %s (shown only now; set another with "
            "`clearsignal admin add-user %s`)",
            username, password, username,
        )  # fmt: skip
