"""The simulated site's systems against a running server, as a shop's backend plays them.

For each consented visitor with a customer account (``SimulatedVisitor.customer``), the
signed-in page links the browser to the customer: the backend signs the customer
reference with the site's link secret (``consent.customer_links.link_token``) and the
link add-on posts it to ``POST /api/visitor/link``. Then the backend posts the
customer's events to ``POST /api/server-events`` as NDJSON batches of up to 500, with an
API key of the site. Anything refused or dropped is a simulation error (every simulated
customer is a consenting, linked visitor); a rate limit (429) is waited out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson

from clearsignal.settings import SiteSettings
from consent.customer_links import link_token
from simulator.delivery import Transport, browser_headers, post_admitted
from simulator.errors import SimulationError
from simulator.visitors import SimulatedVisitor

__all__ = ["BATCH_LINES", "LINK_SECONDS", "HttpSystemsDelivery"]

BATCH_LINES = 500
LINK_SECONDS = 600  # how long a signed link stays valid, as a page would sign it


class HttpSystemsDelivery:
    def __init__(
        self,
        transport: Transport,
        site: SiteSettings,
        api_key: str,
        seed: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        secret = site.touchpoints.link_secret
        if secret is None:
            raise SimulationError(
                f"site {site.id!r} has no touchpoints.link_secret, so no customer can be "
                "linked to a visitor; set one (docs/configuration.md) or simulate without "
                "the site's systems"
            )
        self._transport, self._site, self._seed, self._sleep = transport, site, seed, sleep
        self._secret = secret.get_secret_value().encode()
        self._authorization = f"Bearer {api_key}"
        self._path = f"/api/server-events?site={site.id}"
        self.events = 0

    def deliver(self, visitor: SimulatedVisitor) -> None:
        customer = visitor.customer
        if customer is None or visitor.browser_id is None:
            return
        expires = int(time.time()) + LINK_SECONDS
        token = link_token(self._secret, self._site.id, customer.reference, expires)
        body = {"site": self._site.id, "visitor": visitor.browser_id, "link": token}
        headers = browser_headers(self._site, visitor, "text/plain")
        status, answer = post_admitted(
            self._transport, "/api/visitor/link", orjson.dumps(body), headers, self._sleep
        )
        if status != 201:
            raise SimulationError(f"POST /api/visitor/link answered {status}: {answer}")
        lines = [orjson.dumps(e) for e in customer.wire(visitor.index, self._seed)]
        for start in range(0, len(lines), BATCH_LINES):
            self._post(b"\n".join(lines[start : start + BATCH_LINES]), visitor.index)

    def _post(self, body: bytes, index: int) -> None:
        headers = {"authorization": self._authorization, "content-type": "application/x-ndjson"}
        lines = body.count(b"\n") + 1
        status, answer = post_admitted(self._transport, self._path, body, headers, self._sleep)
        if status != 202 or answer.get("dropped") or answer.get("accepted") != lines:
            raise SimulationError(
                f"POST /api/server-events answered {status} for customer {index}: {answer}"
            )
        self.events += lines
