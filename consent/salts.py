"""Daily salts of the measurement purpose, shared by every collector through the store.

The salt of UTC day D hashes the measurement events received on day D. It is created
(at the latest) on first use, and destroyed by ``destroy_expired`` once 48 hours have
passed since D began (the ``salts.rotate`` job runs at the top of every hour, so at
D + 2 days 00:00 UTC): the partition holding it is dropped. A process keeps a salt in
memory only while its day lasts (and tomorrow's, made ahead).

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
            return self._cache[day]

    def prepare(self, days_ahead: int = 1) -> None:
        """Create the salts of the coming days now, so processes agree before they need them,
        and forget those of days that are over."""
        today = self._clock().date()
        for offset in range(days_ahead + 1):
            self.for_day(today + timedelta(days=offset))
        with self._lock:
            self._forget_before(today)

    def destroy_expired(self) -> list[date]:
        """Drop every salt whose day began 48 hours ago or more; returns the days dropped."""
        # Day D began 48 hours ago or more exactly when D <= the date 48 hours ago.
        last = (self._clock() - SALT_LIFETIME).date()
        days = [
            day
            for (day,) in self._db.rows(
                "SELECT DISTINCT day FROM salts WHERE day <= {last:Date} ORDER BY day",
                {"last": last},
            )
        ]
        for day in days:
            self._db.alter("salts", f"DROP PARTITION '{day.isoformat()}'")
        with self._lock:
            self._forget_before(last + timedelta(days=1))
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

    def _forget_before(self, first_kept: date) -> None:
        for day in [d for d in self._cache if d < first_kept]:
            del self._cache[day]
