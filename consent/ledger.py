"""The consent ledger: records decisions and answers "what may we do for this visitor now?".

Each decision is stored in ``consent_records`` with the canonical bytes of its log entry
(the sequencer later integrates it into the transparency log). ``current`` answers from
an in-process cache that ``record`` updates at once, so the gate is right immediately
after a decision. Every entry, read or written through, is trusted for
``[ingest] consent_cache_seconds`` only, so that a decision recorded by another process
(a withdrawal above all) is seen here within that bound; the erasure's sweep deletes
what this process let through meanwhile (``consent.erasure``). ``cached`` is the same answer
without ever waiting for the store (``UNKNOWN`` when only the store knows), for the
ingest path, which must not block on it.

When the store does not answer, a decision is kept on local disk
(``consent.pending``) and still answered; ``flush_pending`` writes it once the store is
back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from clearsignal.clock import utc_now
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, SiteSettings
from consent.customer_links import customer_key
from consent.database import Database
from consent.entries import ConsentDecision, Erasure, build_entry, build_erasure_entry
from consent.errors import NoticeVersionError, UnknownSiteError
from consent.merkle import leaf_hash
from consent.pending import RECORD_COLUMNS, PendingDecisions
from consent.pseudonyms import SiteKeys, visitor_key
from consent.queries import current_consent_sql
from consent.state import ConsentState

__all__ = ["UNKNOWN", "ConsentLedger", "RecordedConsent", "Unknown"]

log = logging.getLogger("clearsignal.consent")
_KEPT_ON_DISK_SECONDS = 3600.0

CONSENT_LIFETIME = timedelta(days=395)  # 13 months, then the visitor is asked again


class Unknown(Enum):
    """Only the store knows the answer: the cache holds none (or an expired one)."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


@dataclass(frozen=True)
class RecordedConsent:
    receipt_id: str
    site: str
    visitor_key: str
    kind: str
    method: str
    entry: bytes
    leaf_hash: bytes
    state: ConsentState


class ConsentLedger:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        site_keys: SiteKeys,
        clock: Callable[[], datetime] = utc_now,
        cache_seconds: float | None = None,
        cache_size: int = 100_000,
    ) -> None:
        self._db = database
        self._settings = settings
        self._site_keys = site_keys
        self._clock = clock
        self._cache_seconds = (
            settings.ingest.consent_cache_seconds if cache_seconds is None else cache_seconds
        )
        self._cache_size = cache_size
        # (site, visitor_key) -> (state or None, monotonic time after which to re-read)
        self._cache: OrderedDict[tuple[str, str], tuple[ConsentState | None, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._pending = PendingDecisions(settings.spool_dir / "consent-decisions.jsonl")

    def visitor_key(self, site: str, browser_id: str) -> str:
        return visitor_key(self._site_keys.key(site), browser_id)

    def customer_key(self, site: str, reference: str) -> str:
        return customer_key(self._site_keys.key(site), reference)

    def site_key(self, site: str) -> bytes:
        return self._site_keys.key(site)

    def cached(self, site: str, visitor_key: str) -> ConsentState | Unknown | None:
        """``current``'s answer if the cache holds it, else ``UNKNOWN``; never reads the store."""
        with self._lock:
            cached = self._cache.get((site, visitor_key))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return UNKNOWN

    def current(self, site: str, visitor_key: str) -> ConsentState | None:
        key = (site, visitor_key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[1] > now:
                return cached[0]
        state = self._read(site, visitor_key)
        self._remember(key, state, now + self._cache_seconds)
        return state

    def record(self, decision: ConsentDecision) -> RecordedConsent:
        """Store a decision and make it the visitor's current state at once.

        A denial of analytics after a grant is a withdrawal, as is an explicit one: both
        queue the erasure of the visitor's events and signals (``consent.erasure``).
        """
        return self.record_many([decision])[0]

    def record_many(self, decisions: Sequence[ConsentDecision]) -> list[RecordedConsent]:
        """Store several decisions in one insert (imports, the simulator); see ``record``."""
        recorded = [self._prepare(decision) for decision in decisions]
        self._store(recorded)
        return recorded

    def _prepare(self, decision: ConsentDecision) -> RecordedConsent:
        site = self._site(decision.site)
        if decision.notice_version != site.notice.version:
            raise NoticeVersionError(
                f"notice version {decision.notice_version!r} is not the one site {site.id!r} "
                f"shows ({site.notice.version!r}); show the current notice and ask again",
                site.notice.version,
            )
        subject = decision.subject or self.visitor_key(site.id, decision.browser_id)
        analytics = decision.choices.get(Purpose.ANALYTICS, False)
        personalization = analytics and decision.choices.get(Purpose.PERSONALIZATION, False)
        if decision.kind == "consent" and not analytics:
            previous = self.current(site.id, subject)
            if previous is not None and previous.analytics:
                decision = replace(decision, kind="withdrawal")
        state = self._new_state(analytics, personalization)
        entry = build_entry(site, subject, decision, state)
        return RecordedConsent(
            state.receipt_id, site.id, subject, decision.kind, decision.method, entry,
            leaf_hash(entry), state,
        )  # fmt: skip

    def record_erasure(self, erasure: Erasure) -> RecordedConsent:
        """Record a completed erasure: the receipt that proves it, a leaf of the log."""
        site = self._site(erasure.site)
        state = self._new_state(False, False)
        entry = build_erasure_entry(site, erasure, state)
        recorded = RecordedConsent(
            state.receipt_id, site.id, erasure.visitor_key, "erasure", "erasure", entry,
            leaf_hash(entry), state,
        )  # fmt: skip
        self._store([recorded])
        return recorded

    def _site(self, site_id: str) -> SiteSettings:
        site = self._settings.site(site_id)
        if site is None:
            raise UnknownSiteError(f"unknown site {site_id!r}")
        return site

    def _new_state(self, analytics: bool, personalization: bool) -> ConsentState:
        now = self._clock()
        return ConsentState(
            analytics=analytics,
            personalization=personalization,
            recorded_at=now,
            expires_at=now + CONSENT_LIFETIME,
            receipt_id=str(uuid.uuid4()),
        )

    def _store(self, recorded: Sequence[RecordedConsent]) -> None:
        rows = [
            [
                r.receipt_id, r.site, r.visitor_key, r.kind, r.state.analytics,
                r.state.personalization, r.method, self._site(r.site).notice.version,
                r.state.recorded_at, r.state.expires_at, r.entry, r.leaf_hash,
            ]
            for r in recorded
        ]  # fmt: skip
        try:
            self._db.insert("consent_records", rows, RECORD_COLUMNS)
            trusted = self._cache_seconds
        except ConnectionError as exc:
            self._pending.keep(rows)
            log.warning("the store did not answer; %d decisions kept on disk: %s", len(rows), exc)
            trusted = _KEPT_ON_DISK_SECONDS  # the store cannot answer better meanwhile
        until = time.monotonic() + trusted
        for r in recorded:
            if r.kind != "erasure":  # an erasure deletes data; it does not change the choices
                self._remember((r.site, r.visitor_key), r.state, until)

    def flush_pending(self) -> int:
        """Write the decisions kept during an outage; raises ConnectionError while it lasts."""
        return self._pending.flush(self._db)

    def forget(self, site: str, visitor_key: str) -> None:
        with self._lock:
            self._cache.pop((site, visitor_key), None)

    def _remember(self, key: tuple[str, str], state: ConsentState | None, until: float) -> None:
        with self._lock:
            self._cache[key] = (state, until)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _read(self, site: str, visitor_key: str) -> ConsentState | None:
        rows = self._db.rows(
            "SELECT analytics, personalization, recorded_at, expires_at, receipt_id FROM ("
            + current_consent_sql("site = {site:String} AND visitor_key = {key:String}")
            + ")",
            {"site": site, "key": visitor_key},
        )
        if not rows:
            return None
        analytics, personalization, recorded_at, expires_at, receipt_id = rows[0]
        return ConsentState(
            bool(analytics), bool(personalization), recorded_at, expires_at, receipt_id
        )
