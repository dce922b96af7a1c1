"""A site's cases as the team reads them: sorted by priority, each with the customer's
reference opened, the finding explained, and the notes opened.

The one place the inbox (``collector.admin``), the cases API and the customer's /me read
cases from.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aggregator.cases.book import CaseBook
from aggregator.cases.state import Action, CaseState, CaseStatus, priorities
from aggregator.signals.stored import read_signals, signal_document
from aggregator.store.client import Store
from clearsignal.clock import wire_time
from clearsignal.settings import SiteSettings
from consent.customer_references import CustomerReferences

__all__ = ["CaseDesk", "CaseView"]


@dataclass(frozen=True)
class CaseView:
    state: CaseState
    priority: int
    """0 for a closed case."""
    reference: str | None
    """The customer's own reference at the site; None until a signed-in page of a
    consenting visit has sealed it (``consent.customer_references``)."""

    @property
    def case_id(self) -> str:
        return self.state.record.case_id


class CaseDesk:
    def __init__(self, store: Store, site: SiteSettings, site_key: bytes) -> None:
        self.store = store
        self.site = site
        self.book = CaseBook(store, site_key, site.response.note_chars)
        self.references = CustomerReferences(store, site_key)

    def _views(self, states: list[CaseState], now: datetime) -> list[CaseView]:
        ranked = priorities(states, now)
        opened = self.references.opened(self.site.id, {s.record.customer_key for s in states})
        views = [
            CaseView(s, ranked.get(s.record.case_id, 0), opened.get(s.record.customer_key))
            for s in states
        ]
        return sorted(views, key=lambda v: (-v.priority, v.state.record.opened_at, v.case_id))

    def inbox(
        self,
        now: datetime,
        statuses: Collection[CaseStatus] | None = None,
        rule_id: str | None = None,
    ) -> list[CaseView]:
        """The site's cases, highest priority first; closed ones (no priority) last, oldest
        first."""
        states = self.book.states(self.site.id)
        # Priority counts every open case of a customer, whatever the filter shows.
        views = self._views(states, now)
        return [
            view
            for view in views
            if (statuses is None or view.state.status in statuses)
            and (rule_id is None or view.state.record.rule_id == rule_id)
        ]

    def case(self, case_id: str, now: datetime) -> CaseView | None:
        states = self.book.states(self.site.id)
        found = next((s for s in states if s.record.case_id == case_id), None)
        if found is None:
            return None
        # Its priority counts the customer's other open cases.
        customer = [s for s in states if s.record.customer_key == found.record.customer_key]
        return next(v for v in self._views(customer, now) if v.case_id == case_id)

    def visitors_cases(self, visitor_key: str, now: datetime) -> list[CaseView]:
        return self._views(self.book.states(self.site.id, visitor_key=visitor_key), now)

    def finding(self, view: CaseView) -> dict[str, Any] | None:
        """The finding that opened the case, explained as on /me; None once it is gone."""
        record = view.state.record
        for signal in read_signals(self.store, self.site.id, record.visitor_key):
            if signal.rule_id == record.rule_id and signal.window_start == record.window_start:
                return signal_document(signal)
        return None

    def history(self, view: CaseView) -> list[dict[str, Any]]:
        """Each step: when, by whom, what, and its note opened."""
        return [
            {
                "at": wire_time(step.at),
                "actor": step.actor,
                "action": step.action.value,
                "note": self.book.note(view.state, step),
            }
            for step in view.state.actions
        ]

    def act(
        self, view: CaseView, action: Action, actor: str, note: str, now: datetime
    ) -> CaseState:
        return self.book.act(view.state, action, actor, note, now=now)
