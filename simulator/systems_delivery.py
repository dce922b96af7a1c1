"""Getting the simulated systems' events into the store by the endpoint's own code.

Each customer is linked to its visitor as a proven link would link it (at the visitor's
decision time, by the two pseudonyms; with a personalization grant, the reference kept
sealed too). Its events are encoded as the NDJSON body a
backend sends to ``POST /api/server-events`` and taken through what the endpoint and its
writer do with one: ``parse_body``, ``batch_rows`` (every kind allowed, as for a key of
every kind) and ``join_to_visitors``, then inserted as the writer inserts. Anything
dropped on the way is a simulation error: every simulated customer is a consenting,
linked visitor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from aggregator.store.client import Store
from clearsignal.settings import Settings, SiteSettings
from collector.ingest.server_events.parse import MAX_SERVER_EVENTS, NDJSON_TYPES, parse_body
from collector.ingest.server_events.writer import insert_server_rows, rows_of_operator
from consent.customer_links import CustomerLinks
from consent.customer_references import CustomerReferences
from consent.ledger import ConsentLedger
from simulator.errors import SimulationError
from simulator.systems import SimulatedCustomer

__all__ = ["SystemsDelivery"]

FLUSH_LINES = 5000


class SystemsDelivery:
    def __init__(
        self, store: Store, settings: Settings, site: SiteSettings, ledger: ConsentLedger
    ) -> None:
        self._store, self._settings, self._site, self._ledger = store, settings, site, ledger
        self._links = CustomerLinks(store)
        self._references = CustomerReferences(store, ledger.site_key(site.id))
        self._pending_links: list[tuple[str, str, datetime]] = []
        self._pending_references: list[tuple[str, str, str, datetime]] = []
        self._lines: list[bytes] = []
        self.events = 0

    def add(
        self, visitor_key: str, customer: SimulatedCustomer, linked_at: datetime, index: int,
        seed: int, personalization: bool = False,
    ) -> None:  # fmt: skip
        """Link ``customer`` to the visitor; with ``personalization``, also keep the
        reference sealed, as the link endpoint does for such a visitor."""
        pseudonym = self._ledger.customer_key(self._site.id, customer.reference)
        self._pending_links.append((visitor_key, pseudonym, linked_at))
        if personalization:
            self._pending_references.append((visitor_key, pseudonym, customer.reference, linked_at))
        self._lines.extend(orjson.dumps(event) for event in customer.wire(index, seed))
        if len(self._lines) >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        if self._pending_links:
            self._links.record_many(self._site.id, self._pending_links, self._site.retention_days)
            self._pending_links = []
        if self._pending_references:
            self._references.record_many(
                self._site.id, self._pending_references, self._site.retention_days
            )
            self._pending_references = []
        for start in range(0, len(self._lines), MAX_SERVER_EVENTS):
            self._store_lines(self._lines[start : start + MAX_SERVER_EVENTS])
        self._lines = []

    def _store_lines(self, lines: Sequence[bytes]) -> None:
        parsed = parse_body(b"\n".join(lines), NDJSON_TYPES[0], self._site.id)
        if parsed.errors:
            raise SimulationError(f"simulated server events refused: {parsed.errors[:3]}")
        site_key = self._ledger.site_key(self._site.id)
        batch, kept, dropped = rows_of_operator(
            self._settings, self._links, self._site, site_key, parsed.events, "simulation"
        )
        if batch.dropped or dropped:
            raise SimulationError(
                f"simulated server events dropped: {batch.errors[:3] or dict(dropped)}"
            )
        insert_server_rows(self._store, kept, f"simulation:{kept[0][3]}:{len(kept)}")
        self.events += len(kept)
