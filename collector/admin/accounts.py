"""/admin accounts: scrypt password hashes, and the users from settings and from a file.

A password hash is ``scrypt$ln=17,r=8,p=1$<salt>$<key>`` (standard base64): scrypt
(RFC 7914) with N = 2^ln, a 16-byte random salt and a 32-byte key; ln=17, r=8, p=1 are
OWASP's current parameters (``admin.scrypt_ln`` sets ln). A hash made with other
parameters still verifies, and is replaced at its next successful sign-in (in the users
file; an account in the settings is named in the log, to be replaced by hand). Passwords
are never stored or logged.

Accounts come from ``admin.users`` in the settings and from ``<data_dir>/admin/users.json``
(mode 0600), which ``clearsignal admin add-user`` writes because the settings file may be
read-only. The file is re-read when it changes, so an account added while the server runs
can sign in at once; a name in the settings wins over the same name in the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson
from pydantic import TypeAdapter, ValidationError

from clearsignal.settings import AdminUser, Settings

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountsError",
    "AdminAccounts",
    "SignedIn",
    "hash_parameters",
    "hash_password",
    "read_file_users",
    "remove_file_user",
    "save_file_user",
    "users_file",
    "verify_password",
]

log = logging.getLogger("clearsignal.admin")

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
SCRYPT_LN, SCRYPT_R, SCRYPT_P = 17, 8, 1
_ENCODED = re.compile(r"^scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_USERS = TypeAdapter(list[AdminUser])


class AccountsError(Exception):
    """A users file that cannot be read or written, or a password that cannot be used."""


def _scrypt(password: str, salt: bytes, ln: int, r: int, p: int, length: int) -> bytes:
    n = 1 << ln
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * n * r * p
    )


def hash_password(password: str, ln: int = SCRYPT_LN) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise AccountsError(
            f"a password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, ln, SCRYPT_R, SCRYPT_P, 32)
    b64 = base64.b64encode
    return f"scrypt$ln={ln},r={SCRYPT_R},p={SCRYPT_P}${b64(salt).decode()}${b64(key).decode()}"


def hash_parameters(encoded: str) -> tuple[int, int, int] | None:
    """``(ln, r, p)`` of a hash, or None if it is not one."""
    match = _ENCODED.match(encoded)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def verify_password(password: str, encoded: str) -> bool:
    match = _ENCODED.match(encoded)
    if match is None or len(password) > MAX_PASSWORD_LENGTH:
        return False
    ln, r, p = (int(match[i]) for i in (1, 2, 3))
    if not (10 <= ln <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
        return False
    try:
        salt, expected = base64.b64decode(match[4]), base64.b64decode(match[5])
    except binascii.Error:
        return False
    computed = _scrypt(password, salt, ln, r, p, len(expected))
    return hmac.compare_digest(computed, expected)


@cache
def _decoy_hash(ln: int) -> str:
    """A hash to check unknown names against, so that a wrong name costs what a wrong
    password costs and the answer's timing does not tell which names exist."""
    return hash_password(secrets.token_urlsafe(24), ln)


@dataclass(frozen=True)
class SignedIn:
    user: AdminUser
    outdated: bool
    """Its hash was made with other parameters than today's: ``rehash`` it."""


def users_file(settings: Settings) -> Path:
    return settings.data_dir / "admin" / "users.json"


def read_file_users(path: Path) -> list[AdminUser]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    try:
        return _USERS.validate_python(orjson.loads(raw).get("users", []))
    except (orjson.JSONDecodeError, AttributeError, ValidationError) as exc:
        raise AccountsError(
            f"{path} is not a valid users file ({exc}); fix it or remove it and add the "
            "accounts again with `clearsignal admin add-user`"
        ) from None


def _write_users(path: Path, users: list[AdminUser]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = orjson.dumps(
        {"users": [user.model_dump(mode="json") for user in users]}, option=orjson.OPT_INDENT_2
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def save_file_user(path: Path, user: AdminUser) -> bool:
    """Add ``user`` to the file, or replace the account of that name; True if replaced."""
    users = read_file_users(path)
    replaced = any(u.username == user.username for u in users)
    _write_users(path, [u for u in users if u.username != user.username] + [user])
    return replaced


def remove_file_user(path: Path, username: str) -> bool:
    users = read_file_users(path)
    kept = [u for u in users if u.username != username]
    if len(kept) == len(users):
        return False
    _write_users(path, kept)
    return True


class AdminAccounts:
    """The accounts that may sign in: the settings' and the users file's."""

    def __init__(self, settings: Settings) -> None:
        self.path = users_file(settings)
        self.scrypt_ln = settings.admin.scrypt_ln
        self._configured = {user.username: user for user in settings.admin.users}
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._from_file: dict[str, AdminUser] = {}

    def _file_users(self) -> dict[str, AdminUser]:
        try:
            stat = self.path.stat()
            seen: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen != self._seen:
                users = read_file_users(self.path) if seen else []
                self._from_file = {user.username: user for user in users}
                self._seen = seen
            return self._from_file

    def all(self) -> dict[str, AdminUser]:
        return self._file_users() | self._configured

    def find(self, username: str) -> AdminUser | None:
        return self.all().get(username)

    def authenticate(self, username: str, password: str) -> SignedIn | None:
        """The account if the password is its password; as slow for an unknown name."""
        user = self.find(username)
        encoded = user.password_hash if user else _decoy_hash(self.scrypt_ln)
        if not verify_password(password, encoded) or user is None:
            return None
        outdated = hash_parameters(encoded) != (self.scrypt_ln, SCRYPT_R, SCRYPT_P)
        return SignedIn(user, outdated)

    def rehash(self, user: AdminUser, password: str) -> AdminUser:
        """The account just signed in, its hash made again with today's parameters (its
        other sessions end, as after a new password); an account of the settings is left
        as it is and named in the log."""
        if user.username in self._configured:
            log.warning(
                "the password hash of %s in the settings uses old scrypt parameters; replace "
                "it with the output of `clearsignal admin hash-password`",
                user.username,
            )
            return user
        fresh = user.model_copy(update={"password_hash": hash_password(password, self.scrypt_ln)})
        save_file_user(self.path, fresh)
        log.info("the password hash of %s now uses today's scrypt parameters", user.username)
        return fresh
