"""Sign-in lockout: after ``max_failures`` failed sign-ins within ``window`` seconds for a
username, or from one client, further attempts are refused for ``lock_for`` seconds,
even with the right password.

Counted per username (guessing one account's password from many clients) and per client
(trying many names from one). Kept in memory: a restart forgets the counts, which an
attacker cannot cause from outside. At most ``capacity`` keys are kept, least recently
used first out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

__all__ = ["Lockout"]


class Lockout:
    def __init__(
        self,
        max_failures: int,
        window: float,
        lock_for: float,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = 100_000,
    ) -> None:
        self.max_failures, self.window, self.lock_for = max_failures, window, lock_for
        self._clock = clock
        self._capacity = capacity
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def locked_for(self, keys: Iterable[str]) -> float:
        """Seconds until every one of ``keys`` may try again (0: they may now)."""
        now = self._clock()
        with self._lock:
            return max((self._locked_until.get(key, now) - now for key in keys), default=0.0)

    def fail(self, keys: Iterable[str]) -> bool:
        """Count a failure for each key; True if this failure locked one of them."""
        now = self._clock()
        locked = False
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.pop(key, []) if now - t < self.window]
                recent.append(now)
                self._failures[key] = recent
                if len(recent) >= self.max_failures:
                    self._locked_until[key] = now + self.lock_for
                    self._failures[key] = []
                    locked = True
            while len(self._failures) > self._capacity:
                oldest, _ = self._failures.popitem(last=False)
                self._locked_until.pop(oldest, None)
            self._locked_until = {k: t for k, t in self._locked_until.items() if t > now}
        return locked

    def succeed(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
