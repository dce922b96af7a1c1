"""The simulator's ground truth: a plain Python reference of the rules over the browser.

It decides, from a visitor's generated events, which rules the visitor satisfies. It is
deliberately simple (lists and loops, no ClickHouse), so that the rules computed in
ClickHouse (``aggregator.signals.rules``) can be checked against it. Definitions:

- a session is the visitor's identified events split at 30 minutes of inactivity; a visit
  to a page kind is a session with at least one pageview whose path matches the kind's
  patterns (``SiteSettings.pages``), at the time of its first such pageview;
- price_uncertainty: >= 3 pricing visits within 7 days;
- shipping_cost_shock: a session with a shipping step (step "shipping" or a shipping
  pageview), no purchase (step "purchase" or a purchase pageview) at or after its first
  shipping step, and its last event <= 120 s after its last shipping step;
- pre_purchase_uncertainty: >= 3 help pageviews in the 7 days before a checkout pageview;
- rage_clicks / dead_clicks: >= 2 ``rage_click`` / >= 3 ``dead_click`` in one session;
- form_abandonment: a ``form_abandon`` event;
- repeated_contact: >= 2 contact visits within 30 days;
- declining_activity: as of a time T, >= 4 sessions started in [T-28d, T-14d) and at most
  a quarter of that number in [T-14d, T];
- quick_back: >= 2 occurrences within 7 days of consecutive pageviews A -> B -> A in one
  session, B != A, the return to A <= 10 s after B;
- high_effort, its checkouts (its support journeys are in ``simulator.systems_truth``): in
  a session, the steps of the site's funnel up to its last step (then the next checkout
  begins), whose effort (steps, plus one per step earlier in the funnel than the one
  before, plus one per rage or dead click from the first step to the last, or to the end
  of the session when the last step is not reached) is >= 4 and >= 2 x the greater of
  the distinct steps it reached and the site's median checkout, which ``CHECKOUT_MEDIAN``
  assumes (the accuracy test checks it).

``verdicts`` also evaluates looser and stricter variants (windows +-12 h, time limits
moved, other session gaps, other as-of times for declining activity) and reports the
rules on which they disagree: the simulator regenerates such borderline visitors, so the
truth does not depend on how an implementation rounds or anchors its windows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Protocol

from clearsignal.settings import PageSettings

__all__ = [
    "CHECKOUT_MEDIAN",
    "NOMINAL",
    "RULE_IDS",
    "PageKinds",
    "Role",
    "RuleParams",
    "Verdict",
    "declining",
    "declining_verdict",
    "planted_share",
    "role_of",
    "rules_found",
    "verdicts",
]

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

RULE_IDS = (
    "price_uncertainty",
    "shipping_cost_shock",
    "pre_purchase_uncertainty",
    "rage_clicks",
    "dead_clicks",
    "form_abandonment",
    "repeated_contact",
    "declining_activity",
    "quick_back",
    "high_effort",
)
"""The rules a visitor's browser events alone can satisfy (high_effort by a checkout)."""

PLANTED_SHARE = 0.05


def planted_share(rule: str) -> float:
    """The share of consented visitors planted for ``rule`` (as many again get a look-alike).
    high_effort is planted half by a checkout (``simulator.plans``), half by a support
    journey (``simulator.systems``)."""
    return PLANTED_SHARE / 2 if rule == "high_effort" else PLANTED_SHARE


def role_of(draw: float, planted: float, lookalike: float) -> Role | None:
    """The role a uniform ``draw`` in [0, 1) gives: planted below ``planted``, a look-alike
    in the ``lookalike`` above that, else none. Every plan draws once per rule, whatever
    it becomes, so that plans stay aligned across rules and runs."""
    if draw < planted:
        return Role.PLANTED
    if draw < planted + lookalike:
        return Role.LOOKALIKE
    return None


CHECKOUT_MEDIAN = 4
"""The site's median checkout effort: most checkouts go straight through the four steps,
the others stop after two (the accuracy test checks it in the store)."""


class Role(StrEnum):
    """A visitor's part in a rule's truth: its behaviour, or a look-alike under it."""

    PLANTED = "planted"
    LOOKALIKE = "lookalike"


class TruthEvent(Protocol):
    """What the reference reads of an event."""

    @property
    def ts(self) -> int: ...  # ms since the epoch
    @property
    def type(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str | None: ...


@dataclass(frozen=True)
class RuleParams:
    session_gap: int = 30 * MINUTE
    pricing_visits: int = 3
    pricing_window: int = 7 * DAY
    shock_after: int = 120 * SECOND
    help_views: int = 3
    help_window: int = 7 * DAY
    rage_clicks: int = 2
    dead_clicks: int = 3
    contact_visits: int = 2
    contact_window: int = 30 * DAY
    declining_sessions: int = 4
    declining_share: float = 0.25
    declining_half: int = 14 * DAY
    quick_back_after: int = 10 * SECOND
    quick_backs: int = 2
    quick_back_window: int = 7 * DAY


NOMINAL = RuleParams()
_MARGIN = 12 * HOUR
LOOSE = replace(
    NOMINAL,
    session_gap=60 * MINUTE,
    pricing_window=NOMINAL.pricing_window + _MARGIN,
    shock_after=180 * SECOND,
    help_window=NOMINAL.help_window + _MARGIN,
    contact_window=NOMINAL.contact_window + _MARGIN,
    quick_back_after=15 * SECOND,
    quick_back_window=NOMINAL.quick_back_window + _MARGIN,
)
STRICT = replace(
    NOMINAL,
    session_gap=20 * MINUTE,
    pricing_window=NOMINAL.pricing_window - _MARGIN,
    shock_after=80 * SECOND,
    help_window=NOMINAL.help_window - _MARGIN,
    contact_window=NOMINAL.contact_window - _MARGIN,
    quick_back_after=7 * SECOND,
    quick_back_window=NOMINAL.quick_back_window - _MARGIN,
)


class PageKinds:
    """Which page kinds (pricing, help, ...) a path is, by the site's shell-style patterns,
    and the site's funnel (its step names in order)."""

    KINDS = ("pricing", "help", "contact", "checkout", "shipping", "purchase")

    def __init__(self, pages: PageSettings, funnel: Sequence[str]) -> None:
        self._patterns = {kind: tuple(getattr(pages, kind)) for kind in self.KINDS}
        self.funnel = tuple(funnel)
        self._cache: dict[str, frozenset[str]] = {}

    def of(self, path: str) -> frozenset[str]:
        kinds = self._cache.get(path)
        if kinds is None:
            kinds = frozenset(
                kind
                for kind, patterns in self._patterns.items()
                if any(fnmatchcase(path, p) for p in patterns)
            )
            self._cache[path] = kinds
        return kinds


def _sessions(events: Sequence[TruthEvent], gap: int) -> list[list[TruthEvent]]:
    sessions: list[list[TruthEvent]] = []
    last = None
    for event in events:
        if last is None or event.ts - last > gap:
            sessions.append([])
        sessions[-1].append(event)
        last = event.ts
    return sessions


def _within(times: Iterable[int], count: int, window: int) -> bool:
    """At least ``count`` of ``times`` within ``window`` of each other."""
    ordered = sorted(times)
    return any(
        ordered[i + count - 1] - ordered[i] <= window for i in range(len(ordered) - count + 1)
    )


def _visits(sessions: list[list[TruthEvent]], kinds: PageKinds, kind: str) -> list[int]:
    times = []
    for session in sessions:
        hits = [e.ts for e in session if e.type == "pageview" and kind in kinds.of(e.path)]
        if hits:
            times.append(hits[0])
    return times


def _shipping_shock(session: list[TruthEvent], kinds: PageKinds, params: RuleParams) -> bool:
    shipping = [
        e.ts
        for e in session
        if (e.type == "step" and e.name == "shipping")
        or (e.type == "pageview" and "shipping" in kinds.of(e.path))
    ]
    if not shipping:
        return False
    bought = any(
        e.ts >= shipping[0]
        and (
            (e.type == "step" and e.name == "purchase")
            or (e.type == "pageview" and "purchase" in kinds.of(e.path))
        )
        for e in session
    )
    return not bought and session[-1].ts - shipping[-1] <= params.shock_after


def _pre_purchase(events: Sequence[TruthEvent], kinds: PageKinds, params: RuleParams) -> bool:
    pageviews = [(e.ts, kinds.of(e.path)) for e in events if e.type == "pageview"]
    helps = [ts for ts, k in pageviews if "help" in k]
    return any(
        sum(1 for h in helps if h < ts and ts - h <= params.help_window) >= params.help_views
        for ts, k in pageviews
        if "checkout" in k
    )


def _quick_backs(session: list[TruthEvent], params: RuleParams) -> list[int]:
    views = [e for e in session if e.type == "pageview"]
    return [
        b.ts
        for a, b, back in zip(views, views[1:], views[2:], strict=False)
        if back.path == a.path
        and b.path != a.path
        and 0 <= back.ts - b.ts <= params.quick_back_after
    ]


def _checkouts(session: list[TruthEvent], funnel: Sequence[str]) -> list[list[TruthEvent]]:
    """The session's checkouts: its funnel steps, each checkout ended by the funnel's last."""
    checkouts: list[list[TruthEvent]] = [[]]
    for event in session:
        if event.type == "step" and event.name in funnel:
            checkouts[-1].append(event)
            if event.name == funnel[-1]:
                checkouts.append([])
    return [steps for steps in checkouts if steps]


def _checkout_far_above(session: list[TruthEvent], funnel: Sequence[str]) -> bool:
    """A checkout of the session took far more effort than going straight through."""
    for steps in _checkouts(session, funnel):
        places = [funnel.index(str(e.name)) for e in steps]
        first, last = steps[0].ts, steps[-1].ts
        finished = steps[-1].name == funnel[-1]
        errors = sum(
            1
            for e in session
            if e.type in ("rage_click", "dead_click")
            and first <= e.ts
            and (not finished or e.ts <= last)
        )
        backs = sum(1 for before, step in itertools.pairwise(places) if step < before)
        effort = len(places) + backs + errors
        if effort >= 4 and effort >= 2 * max(len(set(places)), CHECKOUT_MEDIAN):
            return True
    return False


def declining(starts: Sequence[int], as_of: int, params: RuleParams = NOMINAL) -> bool:
    """Declining activity as of ``as_of``, from the visitor's session start times."""
    half = params.declining_half
    earlier = sum(1 for s in starts if as_of - 2 * half <= s < as_of - half)
    recent = sum(1 for s in starts if as_of - half <= s <= as_of)
    return earlier >= params.declining_sessions and recent <= earlier * params.declining_share


def rules_found(
    events: Sequence[TruthEvent], kinds: PageKinds, as_of: int, params: RuleParams = NOMINAL
) -> set[str]:
    """The rules a visitor's identified events (in time order) satisfy as of ``as_of``."""
    events = [e for e in events if e.ts <= as_of]
    sessions = _sessions(events, params.session_gap)
    found = set()
    if _within(_visits(sessions, kinds, "pricing"), params.pricing_visits, params.pricing_window):
        found.add("price_uncertainty")
    if any(_shipping_shock(s, kinds, params) for s in sessions):
        found.add("shipping_cost_shock")
    if _pre_purchase(events, kinds, params):
        found.add("pre_purchase_uncertainty")
    if any(sum(e.type == "rage_click" for e in s) >= params.rage_clicks for s in sessions):
        found.add("rage_clicks")
    if any(sum(e.type == "dead_click" for e in s) >= params.dead_clicks for s in sessions):
        found.add("dead_clicks")
    if any(e.type == "form_abandon" for e in events):
        found.add("form_abandonment")
    if _within(_visits(sessions, kinds, "contact"), params.contact_visits, params.contact_window):
        found.add("repeated_contact")
    if declining([s[0].ts for s in sessions], as_of, params):
        found.add("declining_activity")
    backs = [ts for s in sessions for ts in _quick_backs(s, params)]
    if _within(backs, params.quick_backs, params.quick_back_window):
        found.add("quick_back")
    if any(_checkout_far_above(s, kinds.funnel) for s in sessions):
        found.add("high_effort")
    return found


@dataclass(frozen=True)
class Verdict:
    found: frozenset[str]  # by the rules as written, as of the end of the simulation
    borderline: frozenset[str]  # rules on which a looser or stricter reading disagrees


def declining_verdict(starts: Sequence[int], start: int, end: int) -> tuple[bool, bool]:
    """Declining activity as of ``end`` from session start times, and whether it is borderline.

    Borderline: present at the end but absent a little before or after it, or absent at
    the end but present as of an earlier time ``end - k * 4 h`` of the period (a job run
    through the simulated period at those times would find it then).
    """
    if len(starts) < NOMINAL.declining_sessions:
        return False, False
    at_end = declining(starts, end)
    times = [end - 6 * HOUR, end + DAY]
    if not at_end:  # every 4 hours back: a job stepped through the period runs then
        times.extend(range(end - 4 * HOUR, start + NOMINAL.declining_half - 1, -4 * HOUR))
    return at_end, any(declining(starts, t) != at_end for t in times)


def verdicts(events: Sequence[TruthEvent], kinds: PageKinds, start: int, end: int) -> Verdict:
    """The rules found as of ``end``, and those on which the reading of the rules matters."""
    found = rules_found(events, kinds, end)
    borderline = set()
    for params in (LOOSE, STRICT):
        borderline |= found ^ rules_found(events, kinds, end, params)
    starts = [s[0].ts for s in _sessions(events, NOMINAL.session_gap)]
    borderline.discard("declining_activity")
    if declining_verdict(starts, start, end)[1]:
        borderline.add("declining_activity")
    return Verdict(frozenset(found), frozenset(borderline))
