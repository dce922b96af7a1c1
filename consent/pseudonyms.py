"""Purpose-scoped pseudonyms (docs/design.md, "Identity").

- ``visitor_key``: HMAC-SHA256(site key, browser id), for the analytics and
  personalization purposes. Only the holder of the browser id can produce it again;
  destroying the site key crypto-shreds every visitor key of that site.
- ``measurement_key``: a keyed hash of (daily salt, site, IP, user agent), for anonymous
  measurement. The salt is destroyed after 48 hours, so keys cannot be linked across days.

Neither the browser id, the IP address nor the user agent is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from threading import Lock

from consent.errors import SiteKeyError

__all__ = ["SiteKeys", "measurement_key", "visitor_key"]

KEY_BYTES = 32


def visitor_key(site_key: bytes, browser_id: str) -> str:
    """The stored pseudonym of a browser id on one site: 128 bits of HMAC-SHA256, in hex."""
    return hmac.new(site_key, browser_id.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def measurement_key(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    """The anonymous, day-scoped identifier of measurement events: 128 bits, in hex."""
    data = f"{site}\x00{ip}\x00{user_agent}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, key=salt, digest_size=16).hexdigest()


class SiteKeys:
    """One secret key per site, in ``<directory>/<site>.key`` (mode 0600), made on first use.

    Every collector process of a deployment must see the same key files (a shared
    volume or a secret mounted on each host).
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._keys: dict[str, bytes] = {}
        self._lock = Lock()

    def key(self, site: str) -> bytes:
        cached = self._keys.get(site)
        if cached is not None:
            return cached
        with self._lock:
            if site not in self._keys:
                self._keys[site] = self._load_or_create(site)
            return self._keys[site]

    def destroy(self, site: str) -> None:
        """Crypto-shred: without the key no visitor key of the site can be recomputed."""
        with self._lock:
            self._keys.pop(site, None)
            self._path(site).unlink(missing_ok=True)

    def _path(self, site: str) -> Path:
        return self._directory / f"{site}.key"

    def _load_or_create(self, site: str) -> bytes:
        path = self._path(site)
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        return self._read(path)

    @staticmethod
    def _read(path: Path) -> bytes:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SiteKeyError(
                f"site key {path} is readable by other users (mode {oct(mode & 0o777)}); "
                f"run: chmod 600 {path}"
            )
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            # Another process may be writing it this very moment (O_EXCL won the race).
            raise SiteKeyError(
                f"site key {path} holds {len(key)} bytes, expected {KEY_BYTES}; "
                "restore it from backup (a new key would unlink every visitor)"
            )
        return key
