"""Token buckets with a stopped clock: refill, the burst cap, partial grants, eviction."""

from __future__ import annotations

from collector.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_new_key_gets_the_burst_then_what_the_rate_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=30, clock=clock)
    assert limiter.take("a", 25) == 25
    assert limiter.take("a", 25) == 5  # partly granted: the rest of the burst
    assert limiter.take("a", 1) == 0
    clock.now += 0.5
    assert limiter.take("a", 10) == 5  # half a second at 10/s
    clock.now += 60
    assert limiter.take("a", 100) == 30  # never more than the burst


def test_keys_have_buckets_of_their_own() -> None:
    limiter = RateLimiter(rate=1, burst=2, clock=Clock())
    assert limiter.take("a", 5) == 2
    assert limiter.take("b", 5) == 2


def test_the_least_recently_used_key_is_evicted_beyond_capacity() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=2, capacity=2, clock=clock)
    assert limiter.take("a", 2) == 2
    assert limiter.take("b", 2) == 2
    assert limiter.take("a", 1) == 0  # "a" is now the most recently used
    assert limiter.take("c", 2) == 2  # evicts "b"
    assert limiter.take("a", 1) == 0  # "a" kept its empty bucket
    assert limiter.take("b", 2) == 2  # "b" starts over
