"""What every job over the store holds: the store, the settings, a clock, and a lock.

The lock keeps two runs of one job object from overlapping inside a process (the
scheduler's and a manual ``jobs run-once``); runs in different processes are safe because
every job writes rows that are the same whoever computes them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import Settings

__all__ = ["StoreJob"]


class StoreJob:
    def __init__(
        self, store: Store, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
