"""The ingest pipeline: a list of named steps between the parsed batch and the spool.

A step takes the batch context and the events still alive, and returns the events it
passes on; whatever it does not pass on it drops with a reason from ``DropReason``
(counted per reason). The first two steps may refuse the whole request instead
(``Rejection``: 403). The last step turns the survivors into storable rows: scrubbed,
pseudonymised, coarsely enriched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from clearsignal.settings import Settings, SiteSettings
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
from consent.pseudonyms import SiteKeys, measurement_key, visitor_key
from consent.salts import DailySalts
from consent.state import ConsentReader

__all__ = ["BatchContext", "IngestPipeline", "RequestFacts"]

MS_PER_DAY = 86_400_000
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MAX_AGE_MS = 72 * 3600 * 1000
MAX_CLOCK_SKEW_MS = 10 * 60 * 1000
FORM_EVENTS = {EventType.FORM_START, EventType.FORM_SUBMIT, EventType.FORM_ABANDON}
FORM_PROPS = ("form", "fields")


class RequestFacts(NamedTuple):
    """What the HTTP request tells besides its body. Never stored as such."""

    ip: str
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
    device: str = "unknown"
    browser: str = "unknown"
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
    ctx.device, ctx.browser = facts.device, facts.browser
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
        state = pipe.consent.current(site, key)
        if state is not None and state.allows_analytics(pipe.now()):
            ctx.identity, ctx.key = "analytics", key
            return events
    if ctx.site.strict or ctx.facts.privacy_signal:
        ctx.drop(DropReason.NO_CONSENT, len(events))
        return []
    ctx.identity = "measurement"
    salt = pipe.measurement_salt(ctx.facts.received_ms)
    ctx.key = measurement_key(salt, site, ctx.facts.ip, ctx.facts.user_agent)
    return events


def limit_rate(pipe: IngestPipeline, ctx: BatchContext, events: list[EventIn]) -> list[EventIn]:
    assert ctx.site is not None
    if not events:
        return events
    granted = min(
        pipe.site_limiter.take(ctx.site.id, len(events)),
        pipe.client_limiter.take(f"{ctx.site.id}\x00{ctx.key}", len(events)),
    )
    if granted == 0:
        raise Rejection(429, DropReason.RATE_LIMITED, "too many events; retry later", len(events))
    ctx.drop(DropReason.RATE_LIMITED, len(events) - granted)
    return events[:granted]


class IngestPipeline:
    steps: Sequence[Step] = (
        check_site,
        check_origin,
        drop_bots,
        drop_stale,
        drop_duplicates,
        gate_consent,
        limit_rate,
    )

    def __init__(
        self,
        settings: Settings,
        site_keys: SiteKeys,
        salts: DailySalts,
        consent: ConsentReader,
        site_limiter: RateLimiter | None = None,
        client_limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.site_keys = site_keys
        self.salts = salts
        self.consent = consent
        limits = settings.ingest
        self.site_limiter = site_limiter or RateLimiter(
            limits.site_events_per_second, limits.site_burst
        )
        self.client_limiter = client_limiter or RateLimiter(
            limits.client_events_per_second, limits.client_burst
        )
        self.clock = clock
        self._salt: tuple[int, bytes] = (-1, b"")
        self.sites = {site.id: site for site in settings.sites}
        self.query_allowlists = {site.id: tuple(site.query_allowlist) for site in settings.sites}
        self.allowed_origins = {
            site.id: {o.lower() for o in site.allowed_origins} for site in settings.sites
        }

    def measurement_salt(self, received_ms: int) -> bytes:
        """The salt of the UTC day a request arrived on, looked up once a day."""
        day = received_ms // MS_PER_DAY
        cached_day, salt = self._salt
        if day != cached_day:
            salt = self.salts.for_day(date.fromordinal(EPOCH_ORDINAL + day))
            self._salt = (day, salt)
        return salt

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def process(
        self, batch: EventBatch, facts: RequestFacts
    ) -> tuple[list[list[Any]], BatchContext]:
        """Run every step; return the storable rows and the context with its drop counts."""
        ctx = BatchContext(batch=batch, facts=facts)
        events = list(batch.events)
        for step in self.steps:
            events = step(self, ctx, events)
        return self._rows(ctx, events), ctx

    def _rows(self, ctx: BatchContext, events: list[EventIn]) -> list[list[Any]]:
        """The events as rows of the events table (``collector.ingest.rows``): scrubbed,
        under the batch's pseudonym, with the device class and browser family."""
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
        )
        rows = []
        for event in events:
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
        return rows
