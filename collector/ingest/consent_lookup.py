"""Consent the ledger cannot answer from memory, asked of the store off the event loop.

A browser id the collector has not seen lately needs the store to say whether it holds an
analytics grant. The ingest endpoint asks here before it runs the pipeline: the lookup
runs on a few threads of its own, and the request waits for it at most ``timeout``
seconds. When the store does not answer in time (an outage, a slow server), the batch is
not refused and not guessed at: the pipeline finds no answer in the ledger's cache and
spools it as unverified, to be checked when the store is back
(``collector.ingest.unverified``). After a lookup fails, requests do not wait for the
store for ``pause`` seconds, so an outage costs each request nothing; lookups already
asked for the same visitor are shared.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from consent.ledger import UNKNOWN, ConsentLedger

__all__ = ["ConsentLookups"]

log = logging.getLogger("clearsignal.ingest")


class ConsentLookups:
    def __init__(
        self,
        ledger: ConsentLedger,
        timeout: float = 0.5,
        pause: float = 2.0,
        workers: int = 4,
        queue: int = 256,
    ) -> None:
        self.ledger = ledger
        self.timeout = timeout
        self.pause = pause
        self._queue = queue
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="consent-lookup")
        self._asked: dict[tuple[str, str], Future[object]] = {}
        self._store_down_until = 0.0
        self.waited_out = 0
        """Lookups given up on (timed out, failed, or not asked during a pause)."""

    async def know(self, site: str, visitor_key: str) -> None:
        """Put the visitor's consent in the ledger's cache, if the store answers in time."""
        if self.ledger.cached(site, visitor_key) is not UNKNOWN:
            return
        if time.monotonic() < self._store_down_until or len(self._asked) >= self._queue:
            self.waited_out += 1
            return
        key = (site, visitor_key)
        asked = self._asked.get(key)
        if asked is None:
            asked = self._asked[key] = self._executor.submit(self.ledger.current, site, visitor_key)
            asked.add_done_callback(lambda _: self._asked.pop(key, None))
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(asked)), self.timeout)
        except Exception as exc:  # the store timed out, refused, or failed: wait no more
            self.waited_out += 1
            self._store_down_until = time.monotonic() + self.pause
            log.warning("consent lookup gave up (%s); batches are spooled unverified", exc)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
