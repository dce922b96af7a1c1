"""API keys of a site's backends: made, listed and revoked by operators, checked on every
``POST /api/server-events``.

A key reads ``cs_sk_<key id>_<secret>``: 12 hex characters naming the key, then 256 random
bits in base64url. Only SHA-256 of the secret is stored (``api_keys``, migration 0020):
the secret has full entropy, so a fast hash is enough, and it is shown once, when the key
is made. Each key belongs to one site and may send only the kinds it was made for; a key
with the ``cases`` scope may also read the site's cases and record what its team did.

Checking a key costs one store read per key id and process every ``cache_seconds``
(negative answers too, so random key ids cannot make every request read the store); a
revocation reaches every collector process within that bound. While the store does not
answer, what was read last of a key stands, so backends go on sending into the spool.
The comparison of digests is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime

from aggregator.errors import StoreError
from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import ApiScope

__all__ = ["CASES_SCOPE", "KEY_PATTERN", "SCOPES", "ApiKey", "ApiKeys", "IssuedKey"]

KEY_PATTERN = re.compile(r"^cs_sk_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
_COLUMNS = (
    "site", "key_id", "name", "secret_sha256", "kinds", "created_at", "created_by",
    "revoked_at", "updated_at", "scopes",
)  # fmt: skip
CASES_SCOPE = ApiScope.CASES.value
SCOPES = tuple(scope.value for scope in ApiScope)


@dataclass(frozen=True)
class ApiKey:
    site: str
    key_id: str
    name: str
    kinds: frozenset[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    scopes: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str
    """The whole key, shown once: only its digest is stored."""


def _stored_time(moment: datetime) -> datetime:
    """``moment`` as the store keeps it (milliseconds), so a key made equals it read back."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


class ApiKeys:
    def __init__(
        self,
        store: Store,
        cache_seconds: float = 2.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self.capacity = capacity
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, tuple[ApiKey, bytes] | None]] = OrderedDict()
        self._lock = threading.Lock()

    def create(
        self,
        site: str,
        name: str,
        kinds: Collection[str],
        created_by: str,
        scopes: Collection[str] = (),
    ) -> IssuedKey:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; a key may have {list(SCOPES)}")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = _stored_time(utc_now())
        key = ApiKey(site, key_id, name, frozenset(kinds), now, created_by, None, frozenset(scopes))
        self._write(key, _digest(secret), now)
        return IssuedKey(key, f"cs_sk_{key_id}_{secret}")

    def revoke(self, site: str, key_id: str) -> ApiKey | None:
        """Revoke a key of ``site``; None when the site has no such key. Revoking twice
        keeps the first time."""
        found = self._read(key_id)
        if found is None or found[0].site != site:
            return None
        key, digest = found
        if key.revoked_at is None:
            now = _stored_time(utc_now())
            key = replace(key, revoked_at=now)
            self._write(key, digest, now)
        with self._lock:
            self._cache.pop(key_id, None)
        return key

    def listed(self, site: str | None = None) -> list[ApiKey]:
        where = "WHERE site = {site:String}" if site is not None else ""
        rows = self.store.rows(
            f"SELECT {', '.join(_COLUMNS)} FROM api_keys FINAL {where} ORDER BY site, created_at",
            {"site": site} if site is not None else None,
        )
        return [_key(row) for row in rows]

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key ``token`` is, or None (malformed, unknown, wrong secret, revoked)."""
        match = KEY_PATTERN.fullmatch(token)
        if match is None:
            return None
        found = self._cached(match["key_id"])
        if found is None:
            return None
        key, digest = found
        if not hmac.compare_digest(digest, _digest(match["secret"])) or not key.active:
            return None
        return key

    def _cached(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key_id)
            if hit is not None and now - hit[0] < self.cache_seconds:
                self._cache.move_to_end(key_id)
                return hit[1]
        try:
            found = self._read(key_id)
        except StoreError:
            if hit is None:
                raise
            return hit[1]  # the store is away: what was read last stands until it is back
        with self._lock:
            self._cache[key_id] = (now, found)
            self._cache.move_to_end(key_id)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return found

    def _read(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        rows = self.store.rows(
            f"SELECT {', '.join(_COLUMNS)} FROM api_keys FINAL WHERE key_id = {{key_id:String}}",
            {"key_id": key_id},
        )
        if not rows:
            return None
        row = rows[0]
        digest = row[3]
        return _key(row), digest if isinstance(digest, bytes) else digest.encode("latin-1")

    def _write(self, key: ApiKey, digest: bytes, updated_at: datetime) -> None:
        row = [
            key.site, key.key_id, key.name, digest, sorted(key.kinds), key.created_at,
            key.created_by, key.revoked_at, updated_at, sorted(key.scopes),
        ]  # fmt: skip
        self.store.insert("api_keys", [row], _COLUMNS)


def _key(row: tuple[object, ...]) -> ApiKey:
    site, key_id, name, _, kinds, created_at, created_by, revoked_at = row[:8]
    assert isinstance(created_at, datetime)
    assert revoked_at is None or isinstance(revoked_at, datetime)
    return ApiKey(
        str(site),
        str(key_id),
        str(name),
        frozenset(str(kind) for kind in kinds),  # type: ignore[attr-defined]
        created_at,
        str(created_by),
        revoked_at,
        frozenset(str(scope) for scope in row[9]),  # type: ignore[attr-defined]
    )
