"""What /admin holds while the server runs: accounts, session codec, lockout, action log,
shared links.

Opened in the app's lifespan (``open_admin``), after the store: the session key is read
(or created) under ``<data_dir>/admin``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from aggregator.store.client import Store
from clearsignal.settings import Settings
from collector.action_log import AdminActionLog
from collector.admin.accounts import AdminAccounts
from collector.admin.lockout import Lockout
from collector.admin.sessions import Revocations, SessionCodec, load_session_key
from collector.admin.share_links import ShareLinks
from collector.lanes import Lane
from collector.state import lifespan_state
from consent.log_reader import LogReader

__all__ = ["ADMIN_STATE", "AdminRuntime", "admin_runtime", "open_admin"]

ADMIN_STATE = "admin"


@dataclass
class AdminRuntime:
    settings: Settings
    store: Store
    log_reader: LogReader
    accounts: AdminAccounts
    codec: SessionCodec
    lockout: Lockout
    actions: AdminActionLog
    shares: ShareLinks
    hashing: Lane = field(default_factory=lambda: Lane("password-hash", workers=1, queue=16))
    """scrypt's 128 MiB a hash, one hash at a time, at most 16 waiting."""
    clock: Callable[[], float] = time.time  # Unix seconds: session expiry


def admin_runtime(connection: HTTPConnection) -> AdminRuntime:
    return lifespan_state(connection, ADMIN_STATE, AdminRuntime)


def open_admin(settings: Settings, store: Store, log_reader: LogReader) -> AdminRuntime:
    directory = settings.data_dir / "admin"
    accounts = AdminAccounts(settings)
    codec = SessionCodec(
        load_session_key(directory / "session.key"),
        Revocations(directory / "revoked.json"),
        settings.admin.session_minutes * 60,
    )
    lockout = Lockout(
        settings.admin.max_failures,
        window=settings.admin.lockout_minutes * 60,
        lock_for=settings.admin.lockout_minutes * 60,
    )
    shares = ShareLinks(store, load_session_key(directory / "share.key"))
    return AdminRuntime(
        settings, store, log_reader, accounts, codec, lockout, AdminActionLog(store), shares
    )
