"""Rate limits of the visitor room's endpoints (``[limits]`` in the settings).

- ``decisions``: consent decisions and delete requests, per network address. Each is a
  leaf of the transparency log that can never be removed, so a flood of them is a flood
  of the permanent log;
- ``site_decisions``: the same per site, whatever the addresses;
- ``lookups``: reads of receipts, proofs, erasures and a visitor's own data, per network
  address. An unknown id costs a lookup too, so guessing is throttled like reading.

Addresses are keyed as ``collector.client_address`` keys them (never kept). A refused
request is answered 429 with ``Retry-After`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from clearsignal.settings import LimitSettings
from collector.client_address import address_key, peer_address
from collector.errors import RequestRefused
from collector.rate_limit import RateLimiter
from collector.state import lifespan_state

__all__ = ["VISITOR_LIMITS", "VisitorLimits", "throttled", "visitor_limits"]

VISITOR_LIMITS = "visitor_limits"
Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass
class VisitorLimits:
    decisions: RateLimiter
    site_decisions: RateLimiter
    lookups: RateLimiter

    @classmethod
    def from_settings(cls, limits: LimitSettings) -> VisitorLimits:
        return cls(
            RateLimiter(limits.consent_per_address_per_second, limits.consent_address_burst),
            RateLimiter(limits.consent_per_site_per_second, limits.consent_site_burst),
            RateLimiter(limits.lookups_per_address_per_second, limits.lookups_address_burst),
        )

    def take(self, limiter: RateLimiter, key: str) -> None:
        """One token of ``key``'s bucket, or ``RequestRefused`` 429 saying when to retry."""
        if limiter.take(key, 1) < 1:
            wait = math.ceil(limiter.retry_after())
            raise RequestRefused(
                429,
                {"error": "rate_limited", "detail": f"too many requests; retry in {wait} s"},
                {"Retry-After": str(wait), "Cache-Control": "no-store"},
            )


def visitor_limits(request: Request) -> VisitorLimits:
    return lifespan_state(request, VISITOR_LIMITS, VisitorLimits)


def throttled(bucket: Literal["decisions", "lookups"], endpoint: Endpoint) -> Endpoint:
    """``endpoint`` behind the per-address ``bucket``."""

    async def limited(request: Request) -> Response:
        limits = visitor_limits(request)
        limiter: RateLimiter = getattr(limits, bucket)
        limits.take(limiter, address_key(peer_address(request.scope)))
        return await endpoint(request)

    return limited
