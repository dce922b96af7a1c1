"""Sign-in lockout: after ``max_failures`` failed sign-ins within ``window`` seconds for a
username, or from one client, further attempts are refused for ``lock_for`` seconds,
even with the right password.

An attempt is counted as a failure when it is reserved, before its password is hashed
(``attempt``), and taken back if it succeeds (``succeed``): so however many attempts
arrive at once, at most ``max_failures`` are ever tried before the lock holds.

Counted per username (guessing one account's password from many clients) and per client
(trying many names from one). Kept in memory: a restart forgets the counts, which an
attacker cannot cause from outside. At most ``capacity`` keys are kept, least recently
used first out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Attempt", "Lockout"]


@dataclass(frozen=True)
class Attempt:
    allowed: bool
    locks: bool = False
    """This attempt used the last try of one of its keys: a failure keeps the lock."""


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

    def attempt(self, keys: Sequence[str]) -> Attempt:
        """Reserve a try for each key, counted as a failure until ``succeed``; refused
        (nothing counted) while any key is locked."""
        now = self._clock()
        with self._lock:
            self._locked_until = {k: t for k, t in self._locked_until.items() if t > now}
            if any(key in self._locked_until for key in keys):
                return Attempt(allowed=False)
            locks = False
            for key in keys:
                recent = [t for t in self._failures.pop(key, []) if now - t < self.window]
                recent.append(now)
                self._failures[key] = recent
                if len(recent) >= self.max_failures:
                    self._locked_until[key] = now + self.lock_for
                    locks = True
            while len(self._failures) > self._capacity:
                oldest, _ = self._failures.popitem(last=False)
                self._locked_until.pop(oldest, None)
            return Attempt(allowed=True, locks=locks)

    def succeed(self, keys: Sequence[str]) -> None:
        """The reserved attempt succeeded: the account's count starts over (its first
        key), and the others' counts lose this attempt."""
        with self._lock:
            account, *others = keys
            self._failures.pop(account, None)
            self._locked_until.pop(account, None)
            for key in others:
                recent = self._failures.get(key)
                if recent:
                    recent.pop()
                    if len(recent) < self.max_failures:  # the lock was this attempt's
                        self._locked_until.pop(key, None)
