"""/admin sessions: signed cookies, CSRF tokens bound to them, and revocation at logout.

The session cookie carries the user, role, expiry, a random session id and a tag of the
account's password hash, signed with HMAC-SHA256 under a key kept in
``<data_dir>/admin/session.key`` (32 random bytes, mode 0600, created on first start).
Nothing about a session is kept on the server until it ends: logging out adds its id to
``<data_dir>/admin/revoked.json`` until the cookie would have expired anyway. A changed
password or role, or a removed account, ends every session of that account.

A form's CSRF token is HMAC(key, session id): a page can only have been rendered for the
session that posts it. The sign-in form, before any session, is bound the same way to a
random nonce in a short-lived cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson

from clearsignal.settings import AdminRole, AdminUser

__all__ = ["AdminSession", "Revocations", "SessionCodec", "load_session_key"]

KEY_BYTES = 32


def load_session_key(path: Path) -> bytes:
    """The signing key at ``path``, created (mode 0600) if there is none yet."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return load_session_key(path)
        with os.fdopen(descriptor, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
        key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} must hold {KEY_BYTES} bytes; remove it to make a new one")
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class AdminSession:
    username: str
    role: AdminRole
    session_id: str
    expires: int  # Unix seconds
    password_tag: str


class Revocations:
    """Ended sessions, by a digest of their id, until they would have expired."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._revoked: dict[str, int] = {}

    @staticmethod
    def _digest(session_id: str) -> str:
        return hashlib.sha256(session_id.encode()).hexdigest()[:32]

    def _load(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._seen, self._revoked = None, {}
            return
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._revoked = {
                str(k): int(v) for k, v in orjson.loads(self.path.read_bytes()).items()
            }
            self._seen = seen

    def revoke(self, session: AdminSession, now: float) -> None:
        with self._lock:
            self._load()
            kept = {k: v for k, v in self._revoked.items() if v > now}
            kept[self._digest(session.session_id)] = session.expires
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(orjson.dumps(kept))
            os.replace(temporary, self.path)
            self._load()

    def is_revoked(self, session_id: str) -> bool:
        with self._lock:
            self._load()
            return self._digest(session_id) in self._revoked


class SessionCodec:
    def __init__(self, key: bytes, revocations: Revocations, lifetime_seconds: int) -> None:
        self._key = key
        self.revocations = revocations
        self.lifetime = lifetime_seconds

    def _mac(self, purpose: str, message: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"\0" + message, hashlib.sha256).digest()

    def password_tag(self, user: AdminUser) -> str:
        return _b64(self._mac("password", user.password_hash.encode())[:12])

    def issue(self, user: AdminUser, now: float) -> tuple[str, AdminSession]:
        """A new session (a new id: never one chosen before sign-in) and its cookie value."""
        session = AdminSession(
            user.username, user.role, _b64(secrets.token_bytes(18)),
            int(now) + self.lifetime, self.password_tag(user),
        )  # fmt: skip
        payload = orjson.dumps(
            {"u": session.username, "r": session.role.value, "s": session.session_id,
             "e": session.expires, "p": session.password_tag}
        )  # fmt: skip
        return f"{_b64(payload)}.{_b64(self._mac('session', payload))}", session

    def read(self, cookie: str | None, now: float) -> AdminSession | None:
        """The session a cookie carries, if it is signed, current and not ended."""
        if not cookie or "." not in cookie or len(cookie) > 1000:
            return None
        encoded, signature = cookie.split(".", 1)
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            fields = orjson.loads(payload)
            session = AdminSession(
                str(fields["u"]), AdminRole(fields["r"]), str(fields["s"]),
                int(fields["e"]), str(fields["p"]),
            )  # fmt: skip
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None
        if session.expires <= now or self.revocations.is_revoked(session.session_id):
            return None
        return session

    def still_valid_for(self, session: AdminSession, user: AdminUser | None) -> bool:
        """The account still exists with the same role and password as at sign-in."""
        return (
            user is not None
            and user.role == session.role
            and hmac.compare_digest(self.password_tag(user), session.password_tag)
        )

    def csrf_token(self, session: AdminSession) -> str:
        return _b64(self._mac("csrf", session.session_id.encode()))

    def login_token(self, nonce: str) -> str:
        return _b64(self._mac("login", nonce.encode()))

    @staticmethod
    def token_matches(expected: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(expected.encode(), given.encode())

    def client_tag(self, address: str) -> str:
        """A keyed digest of the client's network address: failures from one client can
        be told apart from another's, and the address itself is never stored."""
        return self._mac("client", address.encode()).hex()[:16]
