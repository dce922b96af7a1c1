"""Token buckets by name (a site, a visitor, a network address): one noisy client cannot
drown a site, and one site cannot drown the collector. A token is one event or request."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "TokenBucket"]


@dataclass(slots=True)
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, wanted: int, now: float) -> int:
        """Take up to ``wanted`` tokens; returns how many were granted."""
        tokens = self.tokens + (now - self.updated) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        granted = wanted if wanted <= tokens else int(tokens)
        self.tokens = tokens - granted
        self.updated = now
        return granted


class RateLimiter:
    """Buckets keyed by name, at most ``capacity`` of them (least recently used go first)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.capacity = rate, burst, capacity
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str, wanted: int) -> int:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(wanted, now)

    def available(self, key: str) -> float:
        """Tokens ``key`` could take now, without taking any (a new key: the burst)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.burst
        return min(self.burst, bucket.tokens + (self._clock() - bucket.updated) * self.rate)

    def retry_after(self, wanted: int = 1) -> float:
        return max(wanted / self.rate, 0.1)
