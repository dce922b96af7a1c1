"""A case as its actions leave it: status, owner, response times and priority.

A case's own row (``cases``) says what was found about whom and when it opened; its
actions (``case_actions``) say what the team did. ``CaseState.fold`` reads the actions in
order: ``contacted``, ``resolved`` and ``dismissed`` set the status and ``reopened`` sets
it back to open; ``claimed`` makes the actor the owner and ``released`` clears it;
``noted`` and ``acknowledged`` change neither. The first response is the first
``contacted`` or ``resolved``; the resolution is the last ``resolved`` while the case
stays resolved.

Priority orders the inbox: ``100 × weight × recency × risk``, where *weight* is the rule's
weight in the site's settings, *recency* halves every ``HALF_LIFE`` since the finding's
window ended, and *risk* grows by half for each other case the customer has open (a
customer with several signals at once is more likely to leave).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "CLOSED",
    "HALF_LIFE",
    "OPEN",
    "Action",
    "CaseAction",
    "CaseRecord",
    "CaseState",
    "CaseStatus",
    "priorities",
]

HALF_LIFE = timedelta(hours=48)


class CaseStatus(StrEnum):
    OPEN = "open"
    CONTACTED = "contacted"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


OPEN = frozenset({CaseStatus.OPEN, CaseStatus.CONTACTED})
CLOSED = frozenset({CaseStatus.RESOLVED, CaseStatus.DISMISSED})


class Action(StrEnum):
    CLAIMED = "claimed"
    RELEASED = "released"
    CONTACTED = "contacted"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    REOPENED = "reopened"
    NOTED = "noted"
    ACKNOWLEDGED = "acknowledged"


_STATUS_OF = {
    Action.CONTACTED: CaseStatus.CONTACTED,
    Action.RESOLVED: CaseStatus.RESOLVED,
    Action.DISMISSED: CaseStatus.DISMISSED,
    Action.REOPENED: CaseStatus.OPEN,
}


@dataclass(frozen=True)
class CaseRecord:
    """A ``cases`` row: what was found, about whom, and when the case opened."""

    site: str
    visitor_key: str
    case_id: str
    customer_key: str
    rule_id: str
    rule_version: int
    window_start: datetime
    window_end: datetime
    weight: float
    opened_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class CaseAction:
    """A ``case_actions`` row (the note still sealed)."""

    case_id: str
    action_id: str
    at: datetime
    actor: str
    action: Action
    note: str = ""


@dataclass(frozen=True)
class CaseState:
    record: CaseRecord
    status: CaseStatus
    owner: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    actions: tuple[CaseAction, ...] = field(default=())

    @classmethod
    def fold(cls, record: CaseRecord, actions: Iterable[CaseAction]) -> CaseState:
        ordered = tuple(sorted(actions, key=lambda a: (a.at, a.action_id)))
        status, owner = CaseStatus.OPEN, ""
        first_response: datetime | None = None
        resolved: datetime | None = None
        for step in ordered:
            if step.action in _STATUS_OF:
                status = _STATUS_OF[step.action]
                resolved = step.at if status == CaseStatus.RESOLVED else None
            if step.action in (Action.CONTACTED, Action.RESOLVED) and first_response is None:
                first_response = step.at
            if step.action == Action.CLAIMED:
                owner = step.actor
            elif step.action == Action.RELEASED:
                owner = ""
        return cls(record, status, owner, first_response, resolved, ordered)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def response_time(self) -> timedelta | None:
        return (
            None
            if self.first_response_at is None
            else self.first_response_at - self.record.opened_at
        )

    def resolution_time(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.record.opened_at


def priorities(cases: Sequence[CaseState], now: datetime) -> dict[str, int]:
    """Case id -> priority (see the module's docstring); only open cases have one."""
    open_per_customer: dict[str, int] = {}
    for case in cases:
        if case.is_open:
            key = case.record.customer_key
            open_per_customer[key] = open_per_customer.get(key, 0) + 1
    found: dict[str, int] = {}
    for case in cases:
        if not case.is_open:
            continue
        age = max(now - case.record.window_end, timedelta(0))
        recency = 0.5 ** (age / HALF_LIFE)
        risk = 1 + 0.5 * (open_per_customer[case.record.customer_key] - 1)
        found[case.record.case_id] = round(100 * case.record.weight * recency * risk)
    return found
