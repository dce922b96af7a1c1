"""The site's own systems, simulated: each consented visitor is a customer with orders,
subscriptions, support contacts, complaints, SLA breaches and handovers; about 5% per
rule get a rule's behaviour planted and another 5% a look-alike just short of it.

Events are drawn, checked against the plain reference (``simulator.systems_truth``) and
drawn again until the planted rules, and only they, are found; whatever happens, the
truth recorded is what the reference finds. Times sit between 09:00 and 17:00 UTC on
whole days before the start of the simulation's last day (the rules' "as of"), and every
window is met or missed by days, never hours, so the truth is clear-cut.

Churn risk needs the browser too: it is planted (or its look-alike) only on visitors
whose visits the browser plan makes decline, with contacts rising in the last fortnight
(or not). Every other rule's contacts and complaints lie 30 days or more back, outside
churn risk's four weeks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from random import Random

from clearsignal.clock import wire_time
from simulator.systems_truth import TOUCHPOINT_RULE_IDS, SystemEvent, touchpoint_rules_found
from simulator.truth import DAY, HOUR, MINUTE, Role, planted_share, role_of

__all__ = ["ASSUMED_MEDIAN", "SimulatedCustomer", "simulated_customer"]

MAX_ATTEMPTS = 40
ASSUMED_MEDIAN = 2
"""The site's median support journey: background journeys take one or two steps, so the
median is at most 2 (the accuracy test checks it in the store)."""
TOPICS = ("delivery", "billing", "returns", "product")


@dataclass(frozen=True)
class SimulatedCustomer:
    reference: str
    events: tuple[SystemEvent, ...]
    planned: Mapping[str, Role]
    truth: Mapping[str, Role]
    attempts: int

    def wire(self, index: int, seed: int) -> list[dict[str, object]]:
        """The events as POST /api/server-events takes them (NDJSON lines)."""
        return [
            {
                "id": f"sim-{seed}-{index}-{n}",
                "customer": self.reference,
                "at": _wire_time(event.ts),
                "kind": event.kind,
                "action": event.action,
                **event.fields,
            }
            for n, event in enumerate(self.events)
        ]


def _wire_time(ms: int) -> str:
    """Milliseconds since the epoch as the API writes times (exact: no float on the way)."""
    seconds, millis = divmod(ms, 1000)
    return wire_time(datetime.fromtimestamp(seconds, UTC).replace(microsecond=millis * 1000))


class _Draw:
    """Events of one customer, on days before ``as_of`` (the start of the last day)."""

    def __init__(self, rng: Random, as_of: int, index: int) -> None:
        self.rng, self.as_of, self.index = rng, as_of, index
        self.events: list[SystemEvent] = []
        self._tickets = 0

    def at(self, days_ago: int) -> int:
        return self.as_of - days_ago * DAY + self.rng.randrange(9 * HOUR, 17 * HOUR, MINUTE)

    def ticket(self) -> str:
        self._tickets += 1
        return f"T{self.index}-{self._tickets}"

    def add(self, days_ago: int, kind: str, action: str, **fields: object) -> None:
        self.events.append(SystemEvent(self.at(days_ago), kind, action, dict(fields)))

    def contact(self, days_ago: int, action: str, topic: str, ticket: str) -> None:
        channel = self.rng.choice(("email", "phone", "chat", "web"))
        self.add(days_ago, "contact", action, ticket=ticket, topic=topic, channel=channel)

    def order(self, days_ago: int) -> None:
        value = round(self.rng.uniform(15, 180), 2)
        items = self.rng.randint(1, 4)
        self.add(days_ago, "order", "placed", value=value, currency="EUR", items=items)

    def journey(self, days_ago: int, topic: str) -> None:
        """A contact answered at once: opened, resolved the next day."""
        ticket = self.ticket()
        self.contact(days_ago, "opened", topic, ticket)
        self.contact(days_ago - 1, "resolved", topic, ticket)


def _complaints(d: _Draw, role: Role) -> None:
    first = d.rng.randint(55, 150)
    if role == Role.PLANTED:
        for days in (first, first - d.rng.randint(3, 20)):
            d.add(days, "complaint", "filed", category="late_delivery")
    elif d.rng.random() < 0.5:
        d.add(first, "complaint", "filed", category="damaged_item")
    else:
        for days in (first, first - d.rng.randint(40, 60)):
            d.add(max(days, 31), "complaint", "filed", category="late_delivery")


def _unresolved(d: _Draw, role: Role) -> None:
    first, ticket = d.rng.randint(40, 150), d.ticket()
    d.contact(first, "opened", "unresolved", ticket)
    if role == Role.PLANTED:
        d.contact(first - d.rng.randint(2, 10), "reopened", "unresolved", ticket)
    else:
        d.contact(first - 1, "resolved", "unresolved", ticket)
        again = first - d.rng.randint(3, 10)
        d.contact(again, "opened", "unresolved", ticket)
        d.contact(again - 1, "resolved", "unresolved", ticket)


def _escalation(d: _Draw, role: Role) -> None:
    first, ticket = d.rng.randint(35, 150), d.ticket()
    d.contact(first, "opened", "escalated", ticket)
    d.contact(first - 1, "escalated" if role == Role.PLANTED else "resolved", "escalated", ticket)


def _purchase_decline(d: _Draw, role: Role) -> None:
    earlier = d.rng.randint(4, 6) if role == Role.PLANTED or d.rng.random() < 0.5 else 2
    for days in d.rng.sample(range(50, 161), earlier):
        d.order(days)
    if role == Role.LOOKALIKE and earlier > 2:
        for days in d.rng.sample(range(3, 41), d.rng.randint(2, 3)):
            d.order(days)


def _downgrade(d: _Draw, role: Role) -> None:
    action = "downgraded" if role == Role.PLANTED else d.rng.choice(("upgraded", "cancelled"))
    d.add(d.rng.randint(2, 150), "subscription", action, plan="basic", recurring_value=9.0,
          currency="EUR")  # fmt: skip


def _service_failure(d: _Draw, role: Role) -> None:
    first, ticket = d.rng.randint(40, 150), d.ticket()
    if role == Role.PLANTED and d.rng.random() < 0.5:
        d.add(first, "sla_breach", "breached", commitment="first_response_4h",
              over_minutes=d.rng.randint(30, 600), ticket=ticket)  # fmt: skip
    elif role == Role.PLANTED:
        d.add(first, "handover", "handed_over", ticket=ticket, count=2)
        d.add(first - d.rng.randint(2, 10), "handover", "handed_over", ticket=ticket, count=1)
    else:
        d.add(first, "handover", "handed_over", ticket=ticket, count=2)


def _high_effort(d: _Draw, role: Role) -> None:
    first, ticket = d.rng.randint(40, 150), d.ticket()
    topics = ("effort-a", "effort-b", "effort-c", "effort-d")
    steps = 4 if role == Role.PLANTED else 2
    for n, topic in enumerate(topics[:steps]):
        d.contact(first - n, "opened", topic, ticket)
    d.add(first - steps, "handover", "handed_over", ticket=ticket, count=2 if steps == 4 else 1)


def _churn(d: _Draw, role: Role) -> None:
    if role == Role.PLANTED:
        days = d.rng.sample(range(2, 13), d.rng.randint(2, 3))
    else:
        days = [*d.rng.sample(range(16, 27), 2), d.rng.randint(2, 12)]
    for n, day in enumerate(days):
        d.contact(day, "opened", f"churn-{n}", d.ticket())


_BUILDERS: dict[str, Callable[[_Draw, Role], None]] = {
    "repeated_complaints": _complaints,
    "unresolved_repeat_contact": _unresolved,
    "escalation": _escalation,
    "purchase_decline": _purchase_decline,
    "downgrade": _downgrade,
    "service_failure": _service_failure,
    "high_effort": _high_effort,
    "churn_risk": _churn,
}


def _roles(rng: Random, declining: bool) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for rule in TOUCHPOINT_RULE_IDS:
        draw = rng.random()  # drawn for every rule: plans stay aligned
        if rule == "churn_risk":  # half of the declining visitors, the other half alike
            role = role_of(draw, 0.5, 0.5) if declining else None
        else:
            role = role_of(draw, planted_share(rule), planted_share(rule))
        if role is not None:
            roles[rule] = role
    return roles


def _background(d: _Draw) -> None:
    for days in d.rng.sample(range(31, 161), d.rng.choice((0, 0, 1, 1, 2))):
        d.order(days)
    if d.rng.random() < 0.3:
        d.journey(d.rng.randint(31, 160), d.rng.choice(TOPICS))


def simulated_customer(
    seed: int, index: int, as_of: int, visits: Sequence[int], declining: bool
) -> SimulatedCustomer:
    """The customer account of consented visitor ``index``: its events and their truth.

    ``visits`` are the start times of the visitor's browser sessions; ``declining`` says
    whether the browser plan made them decline (churn risk is planted only there)."""
    rng = Random(f"clearsignal-simulate/{seed}/{index}/systems")  # noqa: S311
    roles = _roles(rng, declining)
    wanted = {rule for rule, role in roles.items() if role == Role.PLANTED}
    attempts = 0
    while True:
        attempts += 1
        draw = _Draw(Random(f"{seed}/{index}/systems/{attempts}"), as_of, index)  # noqa: S311
        _background(draw)
        for rule, role in roles.items():
            _BUILDERS[rule](draw, role)
        events = sorted(draw.events, key=lambda e: e.ts)
        found = touchpoint_rules_found(events, visits, as_of, ASSUMED_MEDIAN)
        if found == wanted or attempts == MAX_ATTEMPTS:
            break
    truth = dict.fromkeys(found, Role.PLANTED)
    truth |= {
        r: Role.LOOKALIKE for r, role in roles.items() if role == Role.LOOKALIKE and r not in found
    }
    return SimulatedCustomer(f"sim-{seed}-{index}", tuple(events), roles, truth, attempts)
