"""Simulated visitors' plans: consent, identity, planted roles and when each session starts.

Time is cut into 4-hour slots counted back from the end of the simulation; a visitor has
at most one session per slot, starting within the slot's first 40 minutes and lasting
well under the rest of it (an hour and a half at the very most). So sessions are always hours apart (how sessions are split never
matters), and no session spans an instant ``end - k * 4 h``: a job stepped through the
simulated period at those instants never cuts one in two.

A plan is pure and seeded: ``plan_visitor(seed, i, window)`` is the same on every run
and for every number of visitors.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from itertools import accumulate
from math import ceil
from random import Random

from simulator.addresses import address
from simulator.truth import (
    DAY,
    HOUR,
    MINUTE,
    RULE_IDS,
    Role,
    declining_verdict,
    planted_share,
    role_of,
)

__all__ = ["Feature", "PlannedSession", "VisitorPlan", "Window", "plan_visitor"]

SLOT = 4 * HOUR
SLOTS_PER_DAY = 6
SESSION_OFFSET = 40 * MINUTE
CONSENT_SHARE = 0.7
PERSONALIZATION_SHARE = 0.5  # of consented visitors
DECLINING_MIN_DAYS = 28
MAX_ATTEMPTS = 40
CLUSTER_SLOTS = 5 * SLOTS_PER_DAY  # repeated behaviour planted within 5 days (rules: 7)
CONTACT_SLOTS = 20 * SLOTS_PER_DAY  # repeated contact within 20 days (rule: 30)
SPREAD_SLOTS = 56  # 9 days and a bit: three pricing visits "spread over more than 7 days"
DIURNAL = (0.25, 0.35, 1.2, 1.6, 1.5, 1.1)  # weight of a slot starting at 0, 4, ... 20 h UTC

_OS = (
    "Windows NT 10.0; Win64; x64",
    "Macintosh; Intel Mac OS X 10_15_7",
    "X11; Linux x86_64",
)


def _user_agent(rng: Random) -> str:
    kind = rng.choices(("chrome", "edge", "firefox", "safari"), (60, 12, 14, 14))[0]
    version = rng.randint(128, 134)
    if kind == "safari":
        return (
            f"Mozilla/5.0 ({_OS[1]}) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            f"Version/{rng.choice(('17.6', '18.0', '18.1', '18.2'))} Safari/605.1.15"
        )
    system = rng.choice(_OS)
    if kind == "firefox":
        return f"Mozilla/5.0 ({system}; rv:{version}.0) Gecko/20100101 Firefox/{version}.0"
    chrome = (
        f"Mozilla/5.0 ({system}) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{version}.0.0.0 Safari/537.36"
    )
    return f"{chrome} Edg/{version}.0.0.0" if kind == "edge" else chrome


@dataclass(frozen=True)
class Window:
    """The simulated period: ``days`` days ending at ``end`` (ms since the epoch)."""

    end: int
    days: int

    @property
    def start(self) -> int:
        return self.end - self.days * DAY

    @property
    def slots(self) -> int:
        return self.days * SLOTS_PER_DAY

    @cached_property
    def all_slots(self) -> range:
        return range(self.slots)

    @cached_property
    def cum_weights(self) -> list[float]:
        """Cumulative diurnal weights of the slots, for drawing sessions by time of day."""
        return list(
            accumulate(
                DIURNAL[(self.slot_start(s) // SLOT) % SLOTS_PER_DAY] for s in self.all_slots
            )
        )

    def slot_start(self, slot: int) -> int:
        return self.start + slot * SLOT

    def slot_back(self, days: int) -> int:
        """The first slot starting ``days`` days before the end."""
        return (self.days - days) * SLOTS_PER_DAY


@dataclass(frozen=True)
class Feature:
    """Something a session must contain besides ordinary browsing."""

    kind: str  # pricing help contact checkout rage dead form quick_back
    count: int = 1
    variant: str = ""


@dataclass(frozen=True)
class PlannedSession:
    start: int
    features: tuple[Feature, ...]


@dataclass(frozen=True)
class VisitorPlan:
    index: int
    browser_id: str | None  # None: anonymous measurement traffic, no consent
    personalization: bool
    user_agent: str
    ip: str
    roles: Mapping[str, Role]
    sessions: tuple[PlannedSession, ...]
    decision_ms: int | None  # when the visitor granted consent, before the first session


Add = Callable[[int, Feature | None], None]


def _cluster(rng: Random, lo: int, hi: int, count: int, span: int) -> list[int]:
    width = min(span, hi - lo)
    first = rng.randrange(lo, hi - width + 1)
    return rng.sample(range(first, first + width), min(count, width))


def _pricing(rng: Random, role: Role, lo: int, hi: int, add: Add) -> None:
    if role == Role.PLANTED:
        slots = _cluster(rng, lo, hi, 3 if rng.random() < 0.7 else 4, CLUSTER_SLOTS)
    elif hi - lo > SPREAD_SLOTS + 1 and rng.random() < 0.5:
        first = rng.randrange(lo, hi - SPREAD_SLOTS - 1)
        last = rng.randrange(first + SPREAD_SLOTS, hi)
        slots = [first, rng.randrange(first + 1, last), last]
    else:
        slots = _cluster(rng, lo, hi, 2, CLUSTER_SLOTS)
    for slot in slots:
        add(slot, Feature("pricing"))


def _pre_purchase(rng: Random, role: Role, lo: int, hi: int, add: Add) -> None:
    slots = sorted(_cluster(rng, lo, hi, rng.randint(1, 3), CLUSTER_SLOTS))
    helps = rng.choice((3, 3, 4)) if role == Role.PLANTED else 2
    counts = [0] * len(slots)
    for _ in range(helps):
        counts[rng.randrange(len(slots))] += 1
    for slot, count in zip(slots, counts, strict=True):
        if count:
            add(slot, Feature("help", count))
    add(slots[-1], Feature("checkout", variant=rng.choice(("purchase", "purchase", "browse_on"))))


def _contact(rng: Random, role: Role, lo: int, hi: int, add: Add) -> None:
    if role == Role.PLANTED:
        for slot in _cluster(rng, lo, hi, 2 if rng.random() < 0.8 else 3, CONTACT_SLOTS):
            add(slot, Feature("contact"))
    else:
        add(rng.randrange(lo, hi), Feature("contact", 2))


def _quick_back(rng: Random, role: Role, lo: int, hi: int, add: Add) -> None:
    if role == Role.PLANTED and rng.random() < 0.5:
        for slot in _cluster(rng, lo, hi, 2, CLUSTER_SLOTS):
            add(slot, Feature("quick_back", 1, "quick"))
    elif role == Role.PLANTED:
        add(rng.randrange(lo, hi), Feature("quick_back", 2, "quick"))
    elif rng.random() < 0.5:
        add(rng.randrange(lo, hi), Feature("quick_back", 1, "quick"))
    else:
        add(rng.randrange(lo, hi), Feature("quick_back", 2, "slow"))


def _single(planted: Feature, lookalike: Feature) -> Callable[[Random, Role, int, int, Add], None]:
    def build(rng: Random, role: Role, lo: int, hi: int, add: Add) -> None:
        add(rng.randrange(lo, hi), planted if role == Role.PLANTED else lookalike)

    return build


_BUILDERS: dict[str, Callable[[Random, Role, int, int, Add], None]] = {
    "price_uncertainty": _pricing,
    "shipping_cost_shock": _single(
        Feature("checkout", variant="shock"), Feature("checkout", variant="purchase")
    ),
    "pre_purchase_uncertainty": _pre_purchase,
    "rage_clicks": lambda rng, role, lo, hi, add: add(
        rng.randrange(lo, hi), Feature("rage", rng.choice((2, 2, 3)) if role == Role.PLANTED else 1)
    ),
    "dead_clicks": lambda rng, role, lo, hi, add: add(
        rng.randrange(lo, hi), Feature("dead", rng.choice((3, 3, 4)) if role == Role.PLANTED else 2)
    ),
    "form_abandonment": _single(
        Feature("form", variant="abandon"), Feature("form", variant="submit")
    ),
    "repeated_contact": _contact,
    "quick_back": _quick_back,
    "high_effort": _single(
        Feature("checkout", variant="struggle"), Feature("checkout", variant="one_back")
    ),
}


def _background_count(rng: Random) -> int:
    roll = rng.random()
    if roll < 0.5:
        return 1
    if roll < 0.7:
        return 2
    if roll < 0.88:
        return rng.randint(3, 4)
    return rng.randint(5, 8)


def _schedule(rng: Random, roles: Mapping[str, Role], window: Window) -> list[PlannedSession]:
    slots: dict[int, list[Feature]] = {}

    def add(slot: int, feature: Feature | None) -> None:
        slots.setdefault(slot, [])
        if feature is not None:
            slots[slot].append(feature)

    lo, hi = 0, window.slots
    declining = roles.get("declining_activity")
    earlier = range(window.slot_back(27), window.slot_back(15))
    recent = range(window.slot_back(13), window.slot_back(1))
    if declining == Role.PLANTED:  # everything else happens in the earlier fortnight
        lo, hi = earlier.start, earlier.stop
    for rule, role in roles.items():
        if rule in _BUILDERS:
            _BUILDERS[rule](rng, role, lo, hi, add)
    if declining is not None:
        count = rng.randint(5, 7) if declining == Role.PLANTED else rng.randint(4, 6)
        for slot in rng.sample(earlier, count):
            add(slot, None)
        later = (
            int(rng.random() < 0.4)
            if declining == Role.PLANTED
            else rng.randint(max(2, ceil(count * 0.6)), count)
        )
        for slot in rng.sample(recent, later):
            add(slot, None)
    wanted = _background_count(rng)
    for _ in range(50 * wanted):  # free slots in [lo, hi), more of them by day than by night
        if wanted == 0:
            break
        pick = rng.choices(window.all_slots, cum_weights=window.cum_weights)[0]
        if lo <= pick < hi and pick not in slots:
            add(pick, None)
            wanted -= 1
    return [
        PlannedSession(window.slot_start(slot) + rng.randrange(SESSION_OFFSET), tuple(features))
        for slot, features in sorted(slots.items())
    ]


def _roles(
    rng: Random, consented: bool, window: Window, surge: Mapping[str, float]
) -> dict[str, Role]:
    draws = [rng.random() for _ in RULE_IDS]  # drawn for everyone: plans stay aligned
    roles: dict[str, Role] = {}
    for rule, draw in zip(RULE_IDS, draws, strict=True):
        if not consented or (rule == "declining_activity" and window.days < DECLINING_MIN_DAYS):
            continue
        share = surge.get(rule, planted_share(rule))
        role = role_of(draw, share, min(share, planted_share(rule)))
        if role is not None:
            roles[rule] = role
    return roles


def plan_visitor(
    seed: int, index: int, window: Window, surge: Mapping[str, float] | None = None
) -> VisitorPlan:
    """``surge``: a planted share per rule instead of the usual one (a spike of a signal,
    for the alert tests); the same ``surge`` gives the same plan."""
    # Seeded on purpose: the same seed gives the same visitors, browser ids included.
    rng = Random(f"clearsignal-simulate/{seed}/{index}/plan")  # noqa: S311
    consented = rng.random() < CONSENT_SHARE
    personalization = rng.random() < PERSONALIZATION_SHARE
    browser_id = base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode()
    user_agent = _user_agent(rng)
    ip = address(rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
    roles = _roles(rng, consented, window, surge or {})
    wanted = roles.get("declining_activity") == Role.PLANTED
    for _ in range(MAX_ATTEMPTS):
        sessions = _schedule(rng, roles, window)
        if not consented:
            break
        found, borderline = declining_verdict([s.start for s in sessions], window.start, window.end)
        if found == wanted and not borderline:
            break
    decision = sessions[0].start - rng.randint(2_000, 20_000) if consented else None
    return VisitorPlan(
        index=index,
        browser_id=browser_id if consented else None,
        personalization=consented and personalization,
        user_agent=user_agent,
        ip=ip,
        roles=roles,
        sessions=tuple(sessions),
        decision_ms=decision,
    )


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
