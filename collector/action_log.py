"""The admin action log (table ``admin_actions``): every action taken in /admin is a row,
and so is every read of cases and every step recorded through the cases API (username
``api:<key id>``), so the privacy officer sees who looked at whom.

Written before the action's answer is sent; if the row cannot be written, the request
fails rather than acting unlogged. Read by the privacy officer's console.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aggregator.store.client import Store
from clearsignal.clock import utc_now

__all__ = ["ActionScope", "AdminAction", "AdminActionLog", "LoggedAction", "Outcome"]

COLUMNS = ("action_id", "at", "username", "role", "action", "outcome", "site", "detail", "client")
DETAIL_LIMIT = 500


class AdminAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    LOGOUT = "logout"
    VIEW_DASHBOARD = "view_dashboard"
    SEARCH_CONSENT_LOG = "search_consent_log"
    VIEW_RECEIPT = "view_receipt"
    VIEW_ERASURES = "view_erasures"
    VERIFY_LOG = "verify_log"
    EXPORT = "export"
    VIEW_ROPA = "view_ropa"
    VIEW_ACTIONS = "view_actions"
    CREATE_API_KEY = "create_api_key"
    REVOKE_API_KEY = "revoke_api_key"
    VIEW_INBOX = "view_inbox"
    VIEW_CASE = "view_case"
    ACT_ON_CASE = "act_on_case"
    CREATE_SHARE_LINK = "create_share_link"
    REVOKE_SHARE_LINK = "revoke_share_link"
    VIEW_SHARED = "view_shared"
    SHARE_REFUSED = "share_refused"
    REFUSED_ROLE = "refused_role"
    REFUSED_CSRF = "refused_csrf"


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class LoggedAction:
    at: datetime
    username: str
    role: str
    action: str
    outcome: str
    site: str
    detail: str
    client: str


@dataclass(frozen=True)
class ActionScope:
    """What an account limited to some sites may read of the log: the actions on those
    sites, and its own."""

    username: str
    sites: Sequence[str]


class AdminActionLog:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def record(
        self,
        action: AdminAction,
        *,
        username: str,
        role: str,
        client: str,
        outcome: Outcome = Outcome.OK,
        site: str = "",
        detail: str = "",
    ) -> None:
        row = (
            uuid.uuid4(), self._clock(), username[:64], role, action.value, outcome.value,
            site, detail[:DETAIL_LIMIT], client,
        )  # fmt: skip
        self._store.insert("admin_actions", [row], COLUMNS)

    def recent(
        self, limit: int, offset: int = 0, username: str | None = None,
        scope: ActionScope | None = None,
    ) -> list[LoggedAction]:  # fmt: skip
        """The newest actions (of ``username`` if given); within ``scope`` if given."""
        rows = self._store.rows(
            "SELECT at, username, role, action, outcome, site, detail, client "
            "FROM admin_actions WHERE ({username:String} = '' OR username = {username:String}) "
            "AND (NOT {scoped:Bool} OR username = {me:String} OR site IN {sites:Array(String)}) "
            "ORDER BY at DESC, action_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
            {
                "username": username or "", "limit": limit, "offset": offset,
                "scoped": scope is not None, "me": scope.username if scope else "",
                "sites": list(scope.sites) if scope else [],
            },
        )  # fmt: skip
        return [LoggedAction(row[0], *(str(value) for value in row[1:])) for row in rows]
