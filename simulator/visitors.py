"""Simulated visitors: a plan rendered into events, checked against the rules' reference.

Content is rendered again (another seeded attempt) until every rule's outcome is the
planned one and not borderline: planted visitors satisfy their rules clearly, look-alikes
and ordinary visitors clearly do not. Whatever happens, the truth recorded is what the
reference finds in the events finally kept, so it is exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from random import Random

from clearsignal.settings import SiteSettings
from simulator.plans import MAX_ATTEMPTS, VisitorPlan, Window, plan_visitor
from simulator.sessions import SimulatedEvent, render_session
from simulator.systems import SimulatedCustomer, simulated_customer
from simulator.truth import DAY, NOMINAL, RULE_IDS, PageKinds, Role, Verdict, verdicts

__all__ = ["SimulatedVisitor", "request_batches", "visitors"]

BATCH_EVENTS = 20  # the snippet sends at once from 20 queued events on


@dataclass(frozen=True)
class SimulatedVisitor:
    index: int
    browser_id: str | None  # None: anonymous measurement traffic (no consent)
    personalization: bool
    user_agent: str
    ip: str
    decision_ms: int | None  # when consent was granted, before the first event
    events: tuple[SimulatedEvent, ...]  # in time order
    planned: Mapping[str, Role]  # what the plan meant this visitor to be, per rule
    truth: Mapping[str, Role]  # what the events are, per rule, by the reference
    attempts: int  # how many renderings it took
    customer: SimulatedCustomer | None = None  # the site's systems' account of the visitor

    @property
    def settled(self) -> bool:
        """The events came out as planned (else the truth says what they are instead)."""
        planted = {r for r, role in self.truth.items() if role == Role.PLANTED}
        return planted == {r for r, role in self.planned.items() if role == Role.PLANTED}


def _settled(plan: VisitorPlan, verdict: Verdict) -> bool:
    # Declining activity depends on session times alone, which the plan has fixed.
    return all(
        rule not in verdict.borderline
        and (rule in verdict.found) == (plan.roles.get(rule) == Role.PLANTED)
        for rule in RULE_IDS
        if rule != "declining_activity"
    )


def _render(plan: VisitorPlan, seed: int, attempt: int, origin: str) -> list[SimulatedEvent]:
    rng = Random(f"clearsignal-simulate/{seed}/{plan.index}/events/{attempt}")  # noqa: S311
    events: list[SimulatedEvent] = []
    for session in plan.sessions:
        render_session(rng, origin, session, plan.browser_id is not None, events)
    return events


def _session_starts(events: list[SimulatedEvent]) -> list[int]:
    starts: list[int] = []
    last = None
    for event in events:
        if last is None or event.ts - last > NOMINAL.session_gap:
            starts.append(event.ts)
        last = event.ts
    return starts


def _merge(roles: dict[str, Role], more: Mapping[str, Role]) -> None:
    """Add the roles of the site's systems; a rule planted by either side is planted."""
    for rule, role in more.items():
        if roles.get(rule) != Role.PLANTED:
            roles[rule] = role


def visitor(
    seed: int,
    index: int,
    window: Window,
    origin: str,
    kinds: PageKinds,
    systems: bool = True,
    surge: Mapping[str, float] | None = None,
) -> SimulatedVisitor:
    plan = plan_visitor(seed, index, window, surge)
    truth: dict[str, Role] = {}
    attempts = 0
    while True:
        events = _render(plan, seed, attempts, origin)
        attempts += 1
        if plan.browser_id is None:
            break
        verdict = verdicts(events, kinds, window.start, window.end)
        if _settled(plan, verdict) or attempts == MAX_ATTEMPTS:
            for rule in RULE_IDS:
                if rule in verdict.found:
                    truth[rule] = Role.PLANTED
                elif plan.roles.get(rule) == Role.LOOKALIKE:
                    truth[rule] = Role.LOOKALIKE
            break
    planned = dict(plan.roles)
    customer = None
    if systems and plan.browser_id is not None:
        declining = plan.roles.get("declining_activity") == Role.PLANTED
        as_of = window.end - window.end % DAY
        customer = simulated_customer(seed, index, as_of, _session_starts(events), declining)
        _merge(planned, customer.planned)
        _merge(truth, customer.truth)
    return SimulatedVisitor(
        index=index,
        browser_id=plan.browser_id,
        personalization=plan.personalization,
        user_agent=plan.user_agent,
        ip=plan.ip,
        decision_ms=plan.decision_ms,
        events=tuple(events),
        planned=planned,
        truth=truth,
        attempts=attempts,
        customer=customer,
    )


def visitors(
    site: SiteSettings,
    count: int,
    window: Window,
    seed: int,
    systems: bool = True,
    surge: Mapping[str, float] | None = None,
) -> Iterator[SimulatedVisitor]:
    """The visitors, with (``systems``) the site's systems' account of each consented one."""
    origin = site.allowed_origins[0]
    kinds = PageKinds(site.pages, site.funnel)
    for index in range(count):
        yield visitor(seed, index, window, origin, kinds, systems, surge)


def request_batches(events: tuple[SimulatedEvent, ...]) -> list[list[SimulatedEvent]]:
    """The requests the snippet would send: a page's events when it is left, 20 at most."""
    batches: list[list[SimulatedEvent]] = []
    for event in events:
        if not batches or event.type == "pageview" or len(batches[-1]) >= BATCH_EVENTS:
            batches.append([])
        batches[-1].append(event)
    return batches
