"""Read-only links to a site's analytics: made, listed and revoked by its team, checked on
every request of the link's page.

A link's path is ``/admin/shared/<link id>.<signature>``: 12 random hex characters, then
HMAC-SHA256 of the site and id under the server's share key (``<data_dir>/admin/
share.key``, made on first use), in base64url. Nobody can make a link without the key, a
link cannot be moved to another site, and the team can read a link again from the list.
Each request reads the link's row (``shared_links``, migration 0024), so a revocation holds
from the next request on. A password, if the link has one, is kept as its scrypt hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from aggregator.store.client import Store
from clearsignal.clock import utc_now

__all__ = ["SHARED_PATH", "ShareLink", "ShareLinks"]

SHARED_PATH = "/admin/shared"
_TOKEN = re.compile(r"^(?P<link_id>[0-9a-f]{12})\.(?P<signature>[A-Za-z0-9_-]{43})$")
_COLUMNS = (
    "site", "link_id", "label", "password_hash", "created_at", "created_by", "revoked_at",
    "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class ShareLink:
    site: str
    link_id: str
    label: str
    password_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ShareLinks:
    def __init__(self, store: Store, key: bytes) -> None:
        self._store = store
        self._key = key

    def _signature(self, site: str, link_id: str) -> str:
        digest = hmac.new(self._key, f"share:{site}:{link_id}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()

    def token(self, link: ShareLink) -> str:
        return f"{link.link_id}.{self._signature(link.site, link.link_id)}"

    def path(self, link: ShareLink) -> str:
        return f"{SHARED_PATH}/{self.token(link)}"

    def create(self, site: str, label: str, password_hash: str, created_by: str) -> ShareLink:
        now = utc_now()
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        link = ShareLink(site, secrets.token_hex(6), label, password_hash, now, created_by, None)
        self._write(link, now)
        return link

    def _write(self, link: ShareLink, updated_at: datetime) -> None:
        row = (
            link.site, link.link_id, link.label, link.password_hash, link.created_at,
            link.created_by, link.revoked_at, updated_at,
        )  # fmt: skip
        self._store.insert("shared_links", [row], _COLUMNS)

    def _read(self, where: str, parameters: dict[str, str]) -> list[ShareLink]:
        rows = self._store.rows(
            f"SELECT {', '.join(_COLUMNS[:-1])} FROM shared_links FINAL WHERE {where} "
            "ORDER BY created_at DESC",
            parameters,
        )
        return [ShareLink(*row) for row in rows]

    def of_site(self, site: str) -> list[ShareLink]:
        return self._read("site = {site:String}", {"site": site})

    def revoke(self, site: str, link_id: str) -> ShareLink | None:
        found = self._read(
            "site = {site:String} AND link_id = {link_id:String}",
            {"site": site, "link_id": link_id},
        )
        if not found or not found[0].active:
            return None
        now = utc_now()
        revoked = replace(found[0], revoked_at=now)
        self._write(revoked, now)
        return revoked

    def find(self, token: str) -> ShareLink | None:
        """The active link ``token`` names, if its signature holds."""
        matched = _TOKEN.fullmatch(token)
        if matched is None:
            return None
        link_id = matched["link_id"]
        for link in self._read("link_id = {link_id:String}", {"link_id": link_id}):
            expected = self._signature(link.site, link_id)
            if hmac.compare_digest(expected, matched["signature"]) and link.active:
                return link
        return None

    def pass_value(self, link: ShareLink, expires: int) -> str:
        """A cookie's value saying the link's password was given, until ``expires``."""
        digest = hmac.new(self._key, f"pass:{link.link_id}:{expires}".encode(), hashlib.sha256)
        return f"{expires}.{base64.urlsafe_b64encode(digest.digest()).rstrip(b'=').decode()}"

    def pass_holds(self, link: ShareLink, value: str, now: float) -> bool:
        expires, _, _ = value.partition(".")
        if not expires.isdigit() or int(expires) < now:
            return False
        return hmac.compare_digest(self.pass_value(link, int(expires)), value)
