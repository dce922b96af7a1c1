"""The API key a request of a site's backend carries (``Authorization: Bearer cs_sk_…``),
for every endpoint that takes one: ``POST /api/server-events`` and the cases API.

A missing, malformed, unknown or revoked key is refused with 401 and costs its network
address a token: ``FAILED_KEYS_BURST`` failures in a row, then one a second, and past
that 429 with Retry-After, so nobody can try keys quickly. A key that cannot be checked
because the store does not answer (and was never read before) is 503.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from aggregator.errors import StoreError
from clearsignal.settings import Settings, SiteSettings
from collector.api_keys import ApiKey, ApiKeys
from collector.client_address import address_key, peer_address
from collector.errors import RequestRefused
from collector.rate_limit import RateLimiter

__all__ = ["FAILED_KEYS_BURST", "FAILED_KEYS_PER_SECOND", "INVALID_API_KEY", "BearerKeys"]

FAILED_KEYS_PER_SECOND, FAILED_KEYS_BURST = 1.0, 20.0
INVALID_API_KEY = "invalid_api_key"
"""The error of a request without a valid key (a server event's drop reason too)."""


@dataclass
class BearerKeys:
    keys: ApiKeys
    failures: RateLimiter = field(
        default_factory=lambda: RateLimiter(FAILED_KEYS_PER_SECOND, FAILED_KEYS_BURST)
    )

    async def key(self, request: Request) -> ApiKey:
        """The request's active key; ``RequestRefused`` (401, 429 or 503) otherwise."""
        address = address_key(peer_address(request.scope))
        if self.failures.available(address) < 1:
            raise RequestRefused(
                429, {"error": "rate_limited", "detail": "too many failed keys; retry later"}
            )
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        key = None
        if scheme.lower() == "bearer" and token:
            try:
                key = await run_in_threadpool(self.keys.authenticate, token.strip())
            except StoreError:
                raise RequestRefused(
                    503, {"error": "store_unavailable", "detail": "cannot check the key"}
                ) from None
        if key is None:
            self.failures.take(address, 1)
            raise RequestRefused(
                401,
                {
                    "error": INVALID_API_KEY,
                    "detail": "send 'Authorization: Bearer <key>' with a key of the site that "
                    "is not revoked (clearsignal keys create, or /admin)",
                },
            )
        return key

    async def site_key(
        self, request: Request, settings: Settings, scope: str
    ) -> tuple[ApiKey, SiteSettings]:
        """The request's key and the site its ``site`` parameter names, when the key is
        that site's and has ``scope``; ``RequestRefused`` (403) otherwise."""
        key = await self.key(request)
        named = request.query_params.get("site", "")
        site = settings.site(named)
        if site is None or key.site != site.id:
            raise RequestRefused(
                403, {"error": "key_not_for_site", "detail": f"this key is not for site {named!r}"}
            )
        if scope not in key.scopes:
            raise RequestRefused(
                403, {"error": "out_of_scope", "detail": f"this key has no {scope!r} scope"}
            )
        return key, site
