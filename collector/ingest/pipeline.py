"""The ingest pipeline: a list of named steps between the parsed batch and the spool.

A step takes the batch context and the events still alive, and returns the events it
passes on; whatever it does not pass on it drops with a reason from ``DropReason``
(counted per reason). The first two steps may refuse the whole request instead
(``Rejection``: 403). The last step turns the survivors into storable rows: scrubbed,
pseudonymised, coarsely enriched.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, NamedTuple

from clearsignal.settings import IngestSettings, Settings, SiteSettings
from collector.ingest.country import CountryLookup
from collector.ingest.drops import DropReason, Rejection
from collector.ingest.rows import clickhouse_time
from collector.ingest.scrub import (
    page_url_and_path,
    referrer_origin,
    scrub_mapping,
    scrub_text,
    scrub_url,
)
from collector.ingest.user_agent import user_agent_facts
from collector.ingest.wire import EventBatch, EventIn, EventType
from collector.origins import origin_of
from collector.rate_limit import RateLimiter
from consent.ledger import UNKNOWN
from consent.pseudonyms import SiteKeys, measurement_key, visitor_key
from consent.salts import DailySalts
from consent.state import ConsentReader, ConsentState

__all__ = ["BatchContext", "IngestLimits", "IngestPipeline", "RequestFacts"]

log = logging.getLogger("clearsignal.ingest")

MS_PER_DAY = 86_400_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MAX_AGE_MS = 72 * 3600 * 1000
MAX_CLOCK_SKEW_MS = 10 * 60 * 1000
FORM_EVENTS = {EventType.FORM_START, EventType.FORM_SUBMIT, EventType.FORM_ABANDON}
FORM_PROPS = ("form", "fields")
SCRUB_BUDGET = 48 * 1024
"""Characters one request may have scrubbed: above any batch a browser sends (the snippet
sends at most 20 events), far below what would keep a core busy."""


def _text_size(event: EventIn) -> int:
    size = len(event.url) + len(event.ref or "") + len(event.name or "")
    size += sum(len(v) for v in event.props.values() if isinstance(v, str))
    return size + sum(len(v) for v in event.el.values())


class RequestFacts(NamedTuple):
    """What the HTTP request tells besides its body. Never stored as such."""

    ip: str
    address: str  # the bucket of the client's network address (collector.client_address)
    user_agent: str
    origin: str | None
    referer: str | None
    privacy_signal: bool  # Sec-GPC: 1 or DNT: 1
    received_ms: int


@dataclass(slots=True)
class BatchContext:
    batch: EventBatch
    facts: RequestFacts
    site: SiteSettings | None = None
    identity: str = "measurement"
    key: str = ""
    unverified: bool = False
    """A browser id whose consent only the store knows, and the store did not answer: the
    rows wait in the unverified spool until their consent is checked."""
    fallback_key: str = ""
    """For unverified rows: the measurement key they are counted under if no grant is
    found ("" when the site is strict or the browser asked not to be counted)."""
    device: str = "unknown"
    browser: str = "unknown"
    os: str = "unknown"
    country: str = ""
    dropped: dict[DropReason, int] = field(default_factory=dict)

    def drop(self, reason: DropReason, count: int = 1) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count


Step = Callable[["IngestPipeline", BatchContext, list[EventIn]], list[EventIn]]


def check_site(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    ctx.site = pipe.sites.get(ctx.batch.site)
    if ctx.site is None:
        raise Rejection(
            403, DropReason.UNKNOWN_SITE, f"unknown site {ctx.batch.site!r}", len(events)
        )
    return events


def check_origin(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    assert ctx.site is not None
    origin = origin_of(ctx.facts.origin) or origin_of(ctx.facts.referer)
    allowed = pipe.allowed_origins[ctx.site.id]
    if origin not in allowed:
        shown = origin or "no Origin or Referer header"
        raise Rejection(
            403,
            DropReason.ORIGIN_NOT_ALLOWED,
            f"origin {shown} is not allowed for site {ctx.site.id!r}; "
            "add it to the site's allowed_origins",
            len(events),
        )
    return events


def drop_bots(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    facts = user_agent_facts(ctx.facts.user_agent)
    if facts.is_bot:
        ctx.drop(DropReason.BOT, len(events))
        return []
    ctx.device, ctx.browser, ctx.os = facts.device, facts.browser, facts.os
    return events


def drop_stale(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    now = ctx.facts.received_ms
    oldest = now - MAX_AGE_MS
    newest = now + MAX_CLOCK_SKEW_MS
    times = [event.ts for event in events]
    if not times or (min(times) >= oldest and max(times) <= newest):
        return events  # the usual batch: nothing to drop
    kept = []
    for event in events:
        if event.ts < oldest:
            ctx.drop(DropReason.TOO_OLD)
        elif event.ts > newest:
            ctx.drop(DropReason.IN_FUTURE)
        else:
            kept.append(event)
    return kept


def drop_duplicates(
    pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]
) -> list[EventIn]:
    if len({event.id for event in events}) == len(events):
        return events  # the usual batch: nothing to drop
    seen: set[str] = set()
    kept = []
    for event in events:
        if event.id in seen:
            ctx.drop(DropReason.DUPLICATE)
        else:
            seen.add(event.id)
            kept.append(event)
    return kept


def gate_consent(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    """Authoritative on the server: a browser id counts only with a current analytics grant."""
    assert ctx.site is not None
    site = ctx.site.id
    if ctx.batch.visitor is not None and events:
        key = visitor_key(pipe.site_keys.key(site), ctx.batch.visitor)
        state = pipe.consent_of(site, key)
        if state is UNKNOWN:
            ctx.identity, ctx.key, ctx.unverified = "analytics", key, True
            ctx.fallback_key = _measurement_key(pipe, ctx) if _may_measure(ctx) else ""
            return events
        if isinstance(state, ConsentState) and state.allows_analytics(pipe.now()):
            ctx.identity, ctx.key = "analytics", key
            return events
    if not _may_measure(ctx):
        ctx.drop(DropReason.NO_CONSENT, len(events))
        return []
    ctx.identity, ctx.key = "measurement", _measurement_key(pipe, ctx)
    return events


def _may_measure(ctx: BatchContext) -> bool:
    """Anonymous counting needs no consent, unless the site is strict or the browser
    sends Global Privacy Control or Do Not Track."""
    assert ctx.site is not None
    return not (ctx.site.strict or ctx.facts.privacy_signal)


def _measurement_key(pipe: IngestPipeline, ctx: BatchContext) -> str:
    assert ctx.site is not None
    salt = pipe.measurement_salt(ctx.facts.received_ms)
    return measurement_key(salt, ctx.site.id, ctx.facts.ip, ctx.facts.user_agent)


def limit_rate(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    assert ctx.site is not None
    if not events:
        return events
    limits = pipe.limits
    granted = min(
        limits.site.take(ctx.site.id, len(events)),
        limits.client.take(f"{ctx.site.id}\x00{ctx.key}", len(events)),
        limits.address.take(ctx.facts.address, len(events)),
    )
    if granted == 0:
        raise Rejection(429, DropReason.RATE_LIMITED, "too many events; retry later", len(events))
    ctx.drop(DropReason.RATE_LIMITED, len(events) - granted)
    return events[:granted]


@dataclass
class IngestLimits:
    """The token buckets of ingest (a token is an event): per site, per visitor (browser
    id, or measurement id), and per network address whatever the visitor claims to be."""

    site: RateLimiter
    client: RateLimiter
    address: RateLimiter

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> IngestLimits:
        return cls(
            RateLimiter(settings.site_events_per_second, settings.site_burst),
            RateLimiter(settings.client_events_per_second, settings.client_burst),
            RateLimiter(settings.address_events_per_second, settings.address_burst),
        )

    @classmethod
    def unlimited(cls) -> IngestLimits:
        """For a pipeline fed by a trusted program (the simulator), not by the internet."""
        return cls(*(RateLimiter(rate=1e12, burst=1e12) for _ in range(3)))


def locate(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    """The country of the client's address, for the events that are kept."""
    if events:
        ctx.country = pipe.countries.country(ctx.facts.ip)
    return events


class IngestPipeline:
    steps: Sequence[Step] = (
        check_site,
        check_origin,
        drop_bots,
        drop_stale,
        drop_duplicates,
        gate_consent,
        limit_rate,
        locate,
    )

    def __init__(
        self,
        settings: Settings,
        site_keys: SiteKeys,
        salts: DailySalts,
        consent: ConsentReader,
        limits: IngestLimits | None = None,
        clock: Callable[[], float] = time.time,
        wait_for_store: bool = False,
    ) -> None:
        self.settings = settings
        self.site_keys = site_keys
        self.salts = salts
        self.consent = consent
        self.limits = limits or IngestLimits.from_settings(settings.ingest)
        self.clock = clock
        self.countries = CountryLookup(settings.ingest.country_database)
        self.wait_for_store = wait_for_store
        """False on the request path: the pipeline then never waits for the store (a
        consent only it knows makes the batch unverified; a salt it never loaded, an
        ephemeral one). True for a trusted program that may wait (the simulator)."""
        self._salt: tuple[int, bytes] = (-1, b"")
        self._ephemeral_salts: dict[int, bytes] = {}
        self.sites = {site.id: site for site in settings.sites}
        self.query_allowlists = {site.id: tuple(site.query_allowlist) for site in settings.sites}
        self.allowed_origins = {
            site.id: {o.lower() for o in site.allowed_origins} for site in settings.sites
        }

    def consent_of(self, site: str, key: str) -> ConsentState | Enum | None:
        if self.wait_for_store:
            return self.consent.current(site, key)
        return self.consent.cached(site, key)

    def measurement_salt(self, received_ms: int) -> bytes:
        """The salt of the UTC day a request arrived on, looked up once a day.

        The runtime loads today's and tomorrow's salts ahead (``DailySalts.prepare``).
        Should the store have been down since before a day began, the request path does
        not wait for it: the day's events are hashed with a salt made in this process
        and kept only in its memory, until the day's shared salt is loaded. Visitors of
        that stretch are counted apart from the same visitors later that day.
        """
        day = received_ms // MS_PER_DAY
        cached_day, salt = self._salt
        if day == cached_day:
            return salt
        when = date.fromordinal(EPOCH_ORDINAL + day)
        shared = self.salts.for_day(when) if self.wait_for_store else self.salts.cached(when)
        if shared is None:
            if day not in self._ephemeral_salts:
                log.warning("no shared salt for %s yet (store unavailable?): a local one", when)
                self._ephemeral_salts = {day: secrets.token_bytes(32)}
            return self._ephemeral_salts[day]
        self._salt = (day, shared)
        return shared

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def process(
        self, batch: EventBatch, facts: RequestFacts
    ) -> tuple[list[list[Any]], BatchContext]:
        """Run every step; return the storable rows and the context with its drop counts."""
        ctx, events = self.decide(batch, facts)
        return self.rows(ctx, events), ctx

    def decide(self, batch: EventBatch, facts: RequestFacts) -> tuple[BatchContext, list[EventIn]]:
        """Run the steps: which events to keep, under which identity. Cheap, and touches the
        shared limiters and caches: the endpoint runs it on the event loop."""
        ctx = BatchContext(batch=batch, facts=facts)
        events = list(batch.events)
        for step in self.steps:
            events = step(self, ctx, events)
        return ctx, events

    def rows(self, ctx: BatchContext, events: list[EventIn]) -> list[list[Any]]:
        """The events as rows of the events table (``collector.ingest.rows``): scrubbed,
        under the batch's pseudonym, with the device class, browser and OS families and
        the country.

        The text of one request scrubbed is at most ``SCRUB_BUDGET`` characters; the
        events past it are dropped (``too_large``). Touches nothing shared but the
        scrubber's caches, so the endpoint may run it off the event loop."""
        site = ctx.site
        assert site is not None
        allow = self.query_allowlists[site.id]
        received = ctx.facts.received_ms
        # The same in every row of the batch.
        who = (site.id, ctx.key, ctx.identity)
        how = (
            ctx.device,
            ctx.browser,
            clickhouse_time(received),
            received // 1000 + site.retention_days * 86_400,
            ctx.os,
            ctx.country,
        )
        rows = []
        budget = SCRUB_BUDGET
        for index, event in enumerate(events):
            budget -= _text_size(event)
            if budget < 0:
                ctx.drop(DropReason.TOO_LARGE, len(events) - index)
                break
            url, path = page_url_and_path(event.url, allow)
            props: Mapping[str, object] = event.props
            if props and event.type in FORM_EVENTS:
                # Field names only, never values: any other prop of a form event is discarded.
                props = {k: v for k, v in props.items() if k in FORM_PROPS}
            element = event.el
            if "href" in element:
                element = {**element, "href": scrub_url(element["href"], allow)}
            rows.append(
                [
                    *who,
                    event.id,
                    event.type,  # a StrEnum: stored as its value
                    scrub_text(event.name) if event.name else "",
                    clickhouse_time(event.ts),
                    url,
                    path,
                    referrer_origin(event.ref, event.url, allow) if event.ref else "",
                    scrub_mapping(props) if props else {},
                    scrub_mapping(element) if element else {},
                    *how,
                ]
            )
        if ctx.unverified:  # the unverified spool's extra column (collector.ingest.unverified)
            for row in rows:
                row.append(ctx.fallback_key)
        return rows
