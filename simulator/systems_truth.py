"""The reference of the rules over the site's own systems, in plain Python (lists and
loops), as docs/signals.md states them: the simulator's truth for checking the rules
computed in ClickHouse (``aggregator.signals.touchpoint_rules``).

``as_of`` is the start (UTC) of the day of the run, as the rules judge purchase decline
and churn risk; every window is in milliseconds. ``high_effort`` compares a journey with
``median`` (the site's median journey), which the caller passes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from simulator.truth import DAY

__all__ = ["TOUCHPOINT_RULE_IDS", "SystemEvent", "journey_efforts", "touchpoint_rules_found"]

TOUCHPOINT_RULE_IDS = (
    "repeated_complaints",
    "unresolved_repeat_contact",
    "escalation",
    "purchase_decline",
    "downgrade",
    "service_failure",
    "churn_risk",
    "high_effort",
)


@dataclass(frozen=True)
class SystemEvent:
    """One event of the site's systems, as the simulator sends it."""

    ts: int  # ms since the epoch
    kind: str
    action: str
    fields: dict[str, object] = field(default_factory=dict)

    def get(self, name: str) -> object:
        return self.fields.get(name)


def _any_window(times: Sequence[int], weights: Sequence[int], window: int, need: int) -> bool:
    """Some window [x, x + window] from an occurrence x holds ``need`` weight or more."""
    return any(
        sum(w for t, w in zip(times, weights, strict=True) if x <= t <= x + window) >= need
        for x in times
    )


def _complaints(events: Sequence[SystemEvent]) -> bool:
    times = sorted(e.ts for e in events if e.kind == "complaint" and e.action == "filed")
    return _any_window(times, [1] * len(times), 30 * DAY, 2)


def _unresolved(events: Sequence[SystemEvent]) -> bool:
    topics: dict[object, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for e in events:
        if e.kind == "contact":
            contacts, resolved = topics[e.get("topic")]
            if e.action in ("opened", "reopened"):
                contacts.append(e.ts)
            elif e.action == "resolved":
                resolved.append(e.ts)
    for contacts, resolved in topics.values():
        for x in contacts:
            window = [t for t in contacts if x <= t <= x + 14 * DAY]
            if len(window) >= 2 and not any(x <= r <= max(window) for r in resolved):
                return True
    return False


def _purchase_decline(events: Sequence[SystemEvent], as_of: int) -> bool:
    orders = [e.ts for e in events if e.kind == "order" and e.action == "placed"]
    recent = sum(as_of - 45 * DAY <= t < as_of for t in orders)
    earlier = sum(as_of - 165 * DAY <= t < as_of - 45 * DAY for t in orders)
    return earlier >= 3 and (recent / 45) * 3 <= earlier / 120


def _service_failure(events: Sequence[SystemEvent]) -> bool:
    found = sorted(
        (e.ts, 3 if e.kind == "sla_breach" else int(e.get("count") or 1))  # type: ignore[call-overload]
        for e in events
        if e.kind in ("sla_breach", "handover")
    )
    return _any_window([t for t, _ in found], [w for _, w in found], 30 * DAY, 3)


def _churn(events: Sequence[SystemEvent], visits: Sequence[int], as_of: int) -> bool:
    recent_visits = sum(as_of - 14 * DAY <= t < as_of for t in visits)
    earlier_visits = sum(as_of - 28 * DAY <= t < as_of - 14 * DAY for t in visits)
    contacts = [
        e.ts
        for e in events
        if (e.kind == "contact" and e.action in ("opened", "reopened", "escalated"))
        or (e.kind == "complaint" and e.action == "filed")
    ]
    recent = sum(as_of - 14 * DAY <= t < as_of for t in contacts)
    earlier = sum(as_of - 28 * DAY <= t < as_of - 14 * DAY for t in contacts)
    declining = earlier_visits >= 3 and recent_visits * 2 <= earlier_visits
    return declining and recent >= 2 and recent > earlier


def journey_efforts(events: Iterable[SystemEvent]) -> list[int]:
    """Each support journey's effort: its steps by ticket, handovers by their count."""
    efforts: dict[object, int] = defaultdict(int)
    for e in events:
        ticket = e.get("ticket")
        if not ticket or e.kind not in ("contact", "handover", "sla_breach", "complaint"):
            continue
        if e.kind == "contact" and e.action == "resolved":
            continue
        efforts[ticket] += int(e.get("count") or 1) if e.kind == "handover" else 1  # type: ignore[call-overload]
    return list(efforts.values())


def touchpoint_rules_found(
    events: Sequence[SystemEvent], visits: Sequence[int], as_of: int, median: float
) -> set[str]:
    """The rules a customer's events (and their visits' start times) satisfy."""
    found = {
        "repeated_complaints": _complaints(events),
        "unresolved_repeat_contact": _unresolved(events),
        "escalation": any(e.kind == "contact" and e.action == "escalated" for e in events),
        "purchase_decline": _purchase_decline(events, as_of),
        "downgrade": any(e.kind == "subscription" and e.action == "downgraded" for e in events),
        "service_failure": _service_failure(events),
        "churn_risk": _churn(events, visits, as_of),
        "high_effort": any(e >= max(4, 2 * median) for e in journey_efforts(events)),
    }
    return {rule for rule, yes in found.items() if yes}
