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
from simulator.truth import RULE_IDS, PageKinds, Role, Verdict, verdicts

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


def visitor(
    seed: int, index: int, window: Window, origin: str, kinds: PageKinds
) -> SimulatedVisitor:
    plan = plan_visitor(seed, index, window)
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
    return SimulatedVisitor(
        index=index,
        browser_id=plan.browser_id,
        personalization=plan.personalization,
        user_agent=plan.user_agent,
        ip=plan.ip,
        decision_ms=plan.decision_ms,
        events=tuple(events),
        planned=plan.roles,
        truth=truth,
        attempts=attempts,
    )


def visitors(
    site: SiteSettings, count: int, window: Window, seed: int
) -> Iterator[SimulatedVisitor]:
    origin = site.allowed_origins[0]
    kinds = PageKinds(site.pages)
    for index in range(count):
        yield visitor(seed, index, window, origin, kinds)


def request_batches(events: tuple[SimulatedEvent, ...]) -> list[list[SimulatedEvent]]:
    """The requests the snippet would send: a page's events when it is left, 20 at most."""
    batches: list[list[SimulatedEvent]] = []
    for event in events:
        if not batches or event.type == "pageview" or len(batches[-1]) >= BATCH_EVENTS:
            batches.append([])
        batches[-1].append(event)
    return batches
