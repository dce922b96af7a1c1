"""The log of digests and alerts sent (table ``notifications``): each goes out once per
channel, and what was sent stays readable for the site's team and its privacy officer."""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregator.store.client import Store

__all__ = ["KEEP", "NotificationLog"]

KEEP = timedelta(days=365)
_COLUMNS = (
    "site", "kind", "key", "channel", "status", "error", "subject", "body", "sent_at",
    "expires_at",
)  # fmt: skip


class NotificationLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def sent(self, site: str, kind: str, key: str, channel: str) -> bool:
        found = self.store.scalar(
            "SELECT count() FROM notifications FINAL WHERE site = {site:String} "
            "AND kind = {kind:String} AND key = {key:String} AND channel = {channel:String} "
            "AND status = 'sent'",
            {"site": site, "kind": kind, "key": key, "channel": channel},
        )
        return int(found) > 0

    def record(
        self,
        site: str,
        kind: str,
        key: str,
        channel: str,
        error: str,
        subject: str,
        body: str,
        at: datetime,
    ) -> None:
        status = "failed" if error else "sent"
        row = [site, kind, key, channel, status, error[:500], subject, body, at, at + KEEP]
        self.store.insert("notifications", [row], _COLUMNS)
