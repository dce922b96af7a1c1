"""The job lease: one process at a time runs the scheduled jobs.

Collectors run no jobs (``jobs.in_process = false``); one ``clearsignal jobs run``
process does, and a second one started by mistake, or as a standby, must not run the
consent log's sequencer or an erasure next to it. The lease is a term number with a
holder and an expiry, stored in ``job_leases``:

- the holder renews its term while it runs (every third of ``ttl``);
- when the term has expired (the holder stopped, crashed or hangs), any process may
  claim the next term: the claim is inserted with the deduplication token
  ``claim:<name>:<term>``, so the store keeps only the first claim of a term, and every
  claimant reads back (on every replica) which holder that is;
- a holder that stops releases its term at once;
- a job run asks ``holds``: while the expiry this process last wrote or read is more than
  a third of ``ttl`` away, no other process can have claimed a term, so it answers
  without a query (a quiet server runs a job every few seconds).

ClickHouse has no compare-and-set; insert deduplication is the one atomic decision
it makes, exact on one node and on ClickHouse Keeper's replicated tables. The lease
decides who runs; the sequencer's fence (``consent.transparency_log``) makes sure that
even a holder that lost its lease unawares cannot append a leaf at an index taken.
Expiry compares the holder's clock with the claimant's: keep the clocks in sync (NTP).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.errors import StoreError
from aggregator.store.client import Store
from clearsignal.clock import utc_now

__all__ = ["JobLease", "LeaseState"]

log = logging.getLogger("clearsignal.jobs")
_COLUMNS = ("name", "term", "holder", "kind", "written_at", "expires_at")


@dataclass(frozen=True)
class LeaseState:
    term: int
    holder: str
    expires_at: datetime


class JobLease:
    def __init__(
        self,
        store: Store,
        name: str = "scheduler",
        ttl: timedelta = timedelta(seconds=30),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self.name = name
        self.ttl = ttl
        self._clock = clock
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.term: int | None = None
        """The term this process holds, as of the last ``acquire``; None: it holds none."""
        self.other: LeaseState | None = None
        """Another process's unexpired term, as the last ``acquire`` found it."""
        self._until: datetime | None = None  # when this process's term expires, as known
        self._lock = threading.Lock()

    def holds(self) -> bool:
        """Whether this process holds the lease: from what it knows while its term has more
        than a third of ``ttl`` to run, else as ``acquire`` finds it."""
        with self._lock:
            until = self._until if self.term is not None else None
            if until is not None and until - self._clock() > self.ttl / 3:
                return True
        return self.acquire()

    def current(self) -> LeaseState | None:
        """The newest term, its holder, and the expiry the holder last wrote (a release
        writes an expiry of now)."""
        claims = self._store.rows(
            "SELECT term, holder FROM job_leases WHERE name = {name:String} AND kind = 'claim' "
            "ORDER BY term DESC, written_at LIMIT 1",
            {"name": self.name},
        )
        if not claims:
            return None
        term, holder = int(claims[0][0]), str(claims[0][1])
        expires_at = self._store.scalar(
            "SELECT argMax(expires_at, written_at) FROM job_leases "
            "WHERE name = {name:String} AND term = {term:UInt64} AND holder = {holder:String}",
            {"name": self.name, "term": term, "holder": holder},
        )
        return LeaseState(term, holder, expires_at)

    def acquire(self) -> bool:
        """Keep this process's term, or claim the next one if the last has expired; True
        while this process holds the lease."""
        with self._lock:
            state, now = self.current(), self._clock()
            self.other, self._until = None, None
            if state is not None and state.expires_at > now:
                if state.holder != self.holder:
                    self.term, self.other = None, state
                    return False
                self._until = state.expires_at
                if state.expires_at - now < self.ttl * 2 / 3:
                    self._write(state.term, "renewal", now, now + self.ttl)
                    self._until = now + self.ttl
                self.term = state.term
                return True
            term = (state.term if state is not None else 0) + 1
            self._write(term, "claim", now, now + self.ttl)
            self.term = term if self._winners(term) == [self.holder] else None
            self._until = now + self.ttl if self.term is not None else None
            return self.term is not None

    def release(self) -> None:
        """End this process's term now, so a standby takes over at its next try; if the
        store does not take that, the term runs out by itself."""
        with self._lock:
            if self.term is not None:
                now = self._clock()
                try:
                    self._write(self.term, "renewal", now, now)
                except StoreError as exc:
                    log.warning("could not release the job lease (it expires by itself): %s", exc)
                self.term, self._until = None, None

    def _write(self, term: int, kind: str, now: datetime, expires_at: datetime) -> None:
        settings = {"insert_deduplication_token": f"claim:{self.name}:{term}"}
        self._store.insert(
            "job_leases",
            [(self.name, term, self.holder, kind, now, expires_at)],
            _COLUMNS,
            settings=settings if kind == "claim" else None,
        )

    def _winners(self, term: int) -> list[str]:
        """The holders whose claim of ``term`` the store kept, on every replica: one, unless
        replicas that decide alone (a cluster without Keeper) kept different claims."""
        rows = self._store.rows(
            f"SELECT DISTINCT holder FROM {self._store.everywhere('job_leases')} "
            "WHERE name = {name:String} AND term = {term:UInt64} AND kind = 'claim'",
            {"name": self.name, "term": term},
        )
        return sorted(str(holder) for (holder,) in rows)
