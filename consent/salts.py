"""Daily salts of the measurement purpose, shared by every collector through the store.

The salt of UTC day D hashes the measurement events received on day D. It is created
(at the latest) on first use, and destroyed by ``destroy_expired`` once 48 hours have
passed since D began: the partition holding it is dropped, and no process keeps it.

Two processes may create a salt for the same day at once; both rows are kept and
everyone uses the smallest, so they agree as soon as both inserts are visible. The
scheduler creates tomorrow's salt a day early, so that race only exists at first start.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from threading import Lock

from clearsignal.clock import utc_now
from consent.database import Database

__all__ = ["SALT_LIFETIME", "DailySalts"]

SALT_LIFETIME = timedelta(hours=48)


class DailySalts:
    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._db = database
        self._clock = clock
        self._cache: dict[date, bytes] = {}
        self._lock = Lock()

    def today(self) -> bytes:
        return self.for_day(self._clock().date())

    def cached(self, day: date) -> bytes | None:
        """The salt of ``day`` if this process has it, without asking the store."""
        return self._cache.get(day)

    def for_day(self, day: date) -> bytes:
        salt = self._cache.get(day)
        if salt is not None:
            return salt
        with self._lock:
            if day not in self._cache:
                self._cache[day] = self._load_or_create(day)
                self._forget_old(day)
            return self._cache[day]

    def prepare(self, days_ahead: int = 1) -> None:
        """Create the salts of the coming days now, so processes agree before they need them."""
        today = self._clock().date()
        for offset in range(days_ahead + 1):
            self.for_day(today + timedelta(days=offset))

    def destroy_expired(self) -> list[date]:
        """Drop every salt whose day began 48 hours ago or more; returns the days dropped."""
        cutoff = (self._clock() - SALT_LIFETIME).date()
        days = [
            day
            for (day,) in self._db.rows(
                "SELECT DISTINCT day FROM salts WHERE day < {cutoff:Date} ORDER BY day",
                {"cutoff": cutoff},
            )
        ]
        for day in days:
            self._db.command(f"ALTER TABLE salts DROP PARTITION '{day.isoformat()}'")
        with self._lock:
            for day in [d for d in self._cache if d < cutoff]:
                del self._cache[day]
        return days

    def _load_or_create(self, day: date) -> bytes:
        existing = self._smallest(day)
        if existing is not None:
            return existing
        self._db.insert(
            "salts",
            [[day, secrets.token_hex(32), self._clock()]],
            ["day", "salt", "created_at"],
        )
        created = self._smallest(day)
        assert created is not None, "a salt just inserted must be readable"
        return created

    def _smallest(self, day: date) -> bytes | None:
        rows = self._db.rows(
            "SELECT min(salt), count() FROM salts WHERE day = {day:Date}", {"day": day}
        )
        salt, count = rows[0]
        if not count:
            return None
        return bytes.fromhex(salt)

    def _forget_old(self, newest: date) -> None:
        cutoff = newest - timedelta(days=2)
        for day in [d for d in self._cache if d < cutoff]:
            del self._cache[day]
