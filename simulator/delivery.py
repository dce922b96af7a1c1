"""Getting simulated visitors into ClearSignal: straight into the store, or over HTTP.

``StoreDelivery`` goes through the real ingest code: each request batch is parsed into an
``EventBatch`` and run through ``IngestPipeline.process`` with the pipeline's clock set to
when the batch would have arrived (so month-old events are not dropped as stale), the
visitor's desktop user agent and the site's origin. The rows are inserted into ``events``
in batches of about 50,000 rows, encoded as the spool writer sends them. Consent goes through the consent ledger, all
grants in one ``record_many`` call, each recorded at its decision time.

The simulated site's systems (``visitor.customer``) go through the server-event
endpoint's own code (``simulator.systems_delivery``).

``HttpDelivery`` posts the same batches to a running server's ``/api/consent`` and
``/api/events``, through a ``Transport`` (``HttpTransport`` for a URL; tests wrap their
client). The server keeps events only up to 72 hours old, so this path is for short,
small simulations.
"""

from __future__ import annotations

import http.client
import ipaddress
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings, SiteSettings
from collector.client_address import address_key
from collector.ingest.pipeline import IngestLimits, IngestPipeline, RequestFacts
from collector.ingest.rows import EVENT_COLUMNS, ROW_FORMAT, rows_json
from collector.ingest.wire import EventBatch
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from consent.salts import DailySalts
from simulator.errors import SimulationError
from simulator.plans import utc
from simulator.systems_delivery import SystemsDelivery
from simulator.visitors import SimulatedVisitor, request_batches

__all__ = [
    "Grant",
    "HttpDelivery",
    "HttpTransport",
    "SimulationError",
    "StoreDelivery",
    "Transport",
    "browser_headers",
    "post_admitted",
]

ARRIVAL_DELAY = 250  # ms between a batch's last event and its arrival at the collector
_WHOLE_RUN_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Grant:
    """A simulated visitor's analytics grant (personalization too, for some)."""

    browser_id: str
    decision_ms: int
    personalization: bool


class _SimulationSalts(DailySalts):
    """The daily salts of the simulated days, each read or created once per run (the run
    goes back and forth between days, visitor by visitor)."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        super().__init__(store, clock)
        self._kept: dict[date, bytes] = {}

    def for_day(self, day: date) -> bytes:
        salt = self._kept.get(day)
        if salt is None:
            salt = self._kept[day] = super().for_day(day)
        return salt


def _check_drops(dropped: Mapping[str, int], visitor: SimulatedVisitor) -> None:
    if dropped:
        shown = ", ".join(f"{count} {reason}" for reason, count in sorted(dropped.items()))
        raise SimulationError(
            f"the collector dropped events of simulated visitor {visitor.index} ({shown}); "
            "the recorded truth would not match the stored events, so the run stops"
        )


class StoreDelivery:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        site: SiteSettings,
        visitors: int,
        batch_rows: int = 50_000,
        seed: int = 1,
    ) -> None:
        self._store = store
        self._site = site
        self._seed = seed
        self._batch_rows = batch_rows
        self._now_ms = 0
        self._decision_times: Iterator[datetime] = iter(())
        site_keys = SiteKeys(settings.site_key_dir)
        # The simulation is the only writer of its visitors' decisions: it trusts what it
        # recorded for the whole run, as a collector trusts them for consent_cache_seconds.
        self.ledger = ConsentLedger(
            store,
            settings,
            site_keys,
            clock=self._decision_clock,
            cache_seconds=_WHOLE_RUN_SECONDS,
            cache_size=visitors + 1000,
        )
        salts = _SimulationSalts(store, lambda: utc(self._now_ms))
        self._pipeline = IngestPipeline(
            settings,
            site_keys,
            salts,
            self.ledger,
            IngestLimits.unlimited(),
            self._clock,
            wait_for_store=True,
        )
        self._rows: list[list[Any]] = []
        self.events = 0
        self.systems = SystemsDelivery(store, settings, site, self.ledger)

    def _clock(self) -> float:
        return self._now_ms / 1000

    def _decision_clock(self) -> datetime:
        return next(self._decision_times, None) or datetime.now(UTC)

    def record_consents(self, grants: Sequence[Grant]) -> None:
        """Record every grant in one ledger call, each at its decision time."""
        if not grants:
            return
        times = [utc(g.decision_ms) for g in grants]
        decisions = [
            ConsentDecision(
                site=self._site.id,
                browser_id=g.browser_id,
                choices={Purpose.ANALYTICS: True, Purpose.PERSONALIZATION: g.personalization},
                notice_version=self._site.notice.version,
                method="banner",
                client_time=when,
            )
            for g, when in zip(grants, times, strict=True)
        ]
        self._decision_times = iter(times)
        recorded = self.ledger.record_many(decisions)
        if [r.state.recorded_at for r in recorded] != times:
            raise SimulationError("the consent ledger did not record the simulated decision times")

    def visitor_key(self, browser_id: str) -> str:
        return self.ledger.visitor_key(self._site.id, browser_id)

    def deliver(self, visitor: SimulatedVisitor) -> None:
        origin = self._site.allowed_origins[0]
        for events in request_batches(visitor.events):
            batch = EventBatch.model_validate(
                {
                    "site": self._site.id,
                    "visitor": visitor.browser_id,
                    "events": [e.wire(origin) for e in events],
                }
            )
            self._now_ms = events[-1].ts + ARRIVAL_DELAY
            facts = RequestFacts(
                visitor.ip, address_key(visitor.ip), visitor.user_agent, origin, None, False,
                self._now_ms,
            )  # fmt: skip
            rows, ctx = self._pipeline.process(batch, facts)
            _check_drops({r.value: n for r, n in ctx.dropped.items()}, visitor)
            self._rows.extend(rows)
        customer = visitor.customer
        if customer is not None and visitor.browser_id and visitor.decision_ms is not None:
            key = self.visitor_key(visitor.browser_id)
            self.systems.add(
                key, customer, utc(visitor.decision_ms), visitor.index, self._seed,
                visitor.personalization,
            )  # fmt: skip
        if len(self._rows) >= self._batch_rows:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            self._store.insert_formatted("events", EVENT_COLUMNS, rows_json(self._rows), ROW_FORMAT)
            self.events += len(self._rows)
            self._rows = []
        self.systems.flush()

    def close(self) -> None:
        self.flush()
        # The run made salts for past days; destroy those the salt job would have destroyed.
        DailySalts(self._store).destroy_expired()


class Transport(Protocol):
    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, Any]:
        """POST ``body`` to ``path``; the status and the decoded JSON answer."""
        ...


class HttpTransport:
    """POSTs to a ClearSignal server at ``base_url`` over one kept-alive connection."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SimulationError(f"--url {base_url!r} is not an http(s)://host:port URL")
        self._url = base_url.rstrip("/")
        self._prefix = parts.path.rstrip("/")
        self._secure = parts.scheme == "https"
        self._host, self._port, self._timeout = parts.hostname, parts.port, timeout
        self._connection: http.client.HTTPConnection | None = None

    @property
    def confidential(self) -> bool:
        """What is sent stays between this process and the server: HTTPS, or loopback."""
        if self._secure or self._host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self._host).is_loopback
        except ValueError:
            return False

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._secure else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, Any]:
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request("POST", self._prefix + path, body, dict(headers))
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                self._connection = None
                if attempt == 2:
                    raise SimulationError(
                        f"cannot reach ClearSignal at {self._url} ({exc}); start it with "
                        "`clearsignal serve` or pass its address with --url"
                    ) from exc
                continue
            return response.status, orjson.loads(data) if data else None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


def post_admitted(
    transport: Transport,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    sleep: Callable[[float], None],
) -> tuple[int, Any]:
    """POST, waiting out any 429 (a rate limit) a second at a time, as a client should."""
    while True:
        status, answer = transport.post(path, body, headers)
        if status != 429:
            return status, answer
        sleep(1.0)


def browser_headers(
    site: SiteSettings, visitor: SimulatedVisitor, content_type: str
) -> dict[str, str]:
    """What the visitor's browser sends with a request from the site's page."""
    return {
        "origin": site.allowed_origins[0],
        "user-agent": visitor.user_agent,
        "content-type": content_type,
    }


class HttpDelivery:
    def __init__(
        self, transport: Transport, site: SiteSettings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._transport = transport
        self._site = site
        self._sleep = sleep
        self.events = 0

    def record_consent(self, visitor: SimulatedVisitor) -> str:
        """Post the visitor's grant; returns the visitor key from the receipt."""
        body = {
            "site": self._site.id,
            "visitor": visitor.browser_id,
            "purposes": {"analytics": True, "personalization": visitor.personalization},
            "notice_version": self._site.notice.version,
            "method": "banner",
            "client_ts": visitor.decision_ms,
        }
        headers = browser_headers(self._site, visitor, "application/json")
        status, answer = post_admitted(
            self._transport, "/api/consent", orjson.dumps(body), headers, self._sleep
        )
        if status != 201:
            raise SimulationError(f"POST /api/consent answered {status}: {answer}")
        return str(answer["subject"])

    def deliver(self, visitor: SimulatedVisitor) -> None:
        origin = self._site.allowed_origins[0]
        headers = browser_headers(self._site, visitor, "text/plain")
        for events in request_batches(visitor.events):
            pending = [e.wire(origin) for e in events]
            while pending:
                body = {"site": self._site.id, "visitor": visitor.browser_id, "events": pending}
                status, answer = post_admitted(
                    self._transport, "/api/events", orjson.dumps(body), headers, self._sleep
                )
                if status != 202:
                    raise SimulationError(f"POST /api/events answered {status}: {answer}")
                dropped = Counter(answer.get("dropped", {}))
                limited = dropped.pop("rate_limited", 0)
                _check_drops(dropped, visitor)
                accepted = len(pending) - limited
                self.events += accepted
                # The rate limiter keeps a batch's first events: send the rest again.
                pending = pending[accepted:]
                if pending:
                    self._sleep(1.0)
