"""The simulator's reference of the rules (``simulator.truth``), on hand-made histories:
each finds exactly the behaviour it describes, and nothing just under it."""

from __future__ import annotations

import pytest

from simulator.truth import PageKinds, rules_found
from tests.simulator.histories import SITE, Ev, at


def found(*events: Ev) -> set[str]:
    return rules_found(
        sorted(events, key=lambda e: e.ts), PageKinds(SITE.pages, SITE.funnel), at(0)
    )


def pricing(*days: float) -> list[Ev]:
    return [Ev(at(d), path="/demo/pricing") for d in days]


def shipping_then(*after: Ev, leave_after: float) -> list[Ev]:
    start = at(1)
    return [
        Ev(start, path="/demo/checkout/shipping"),
        Ev(start + 1000, "step", "/demo/checkout/shipping", "shipping"),
        *after,
        Ev(start + int(leave_after * 1000), "engagement", "/demo/checkout/shipping"),
    ]


def clicks(kind: str, count: int, day: float = 1) -> list[Ev]:
    return [Ev(at(day, 5 * i), kind) for i in range(count)]


def quick_backs(day: float, seconds_on_b: float, times: int) -> list[Ev]:
    events, t = [Ev(at(day), path="/demo/products")], at(day)
    for i in range(times):
        t += 20_000
        events.append(Ev(t, path=f"/demo/products/item-{i}"))
        t += int(seconds_on_b * 1000)
        events.append(Ev(t, path="/demo/products"))
    return events


def checkout(*taken: str) -> list[Ev]:
    """One visit that takes ``taken`` in order, 20 s apart: funnel steps, or ``rage`` /
    ``dead`` for a rage or dead click."""
    return [
        Ev(at(1, 20 * i), "step", "/demo/checkout", what)
        if what not in ("rage", "dead")
        else Ev(at(1, 20 * i), f"{what}_click", "/demo/checkout/payment")
        for i, what in enumerate(taken)
    ]


STRAIGHT = ("cart", "shipping", "payment", "purchase")

REFERENCE_CASES = {
    "three pricing visits in six days": (pricing(6, 4, 0.5), {"price_uncertainty"}),
    "two pricing visits in a week": (pricing(6, 1), set()),
    "three pricing visits over eight days": (pricing(9, 5, 1), set()),
    "three pricing pageviews in one visit": (
        [Ev(at(1, s), path="/demo/pricing") for s in (0, 60, 120)],
        set(),
    ),
    "leaving a minute after shipping": (shipping_then(leave_after=60), {"shipping_cost_shock"}),
    "leaving five minutes after shipping": (shipping_then(leave_after=300), set()),
    "buying after shipping": (
        shipping_then(Ev(at(1, 30), "step", "/demo/checkout/complete", "purchase"), leave_after=40),
        set(),
    ),
    "three help pages before checkout": (
        [
            *(Ev(at(d), path="/demo/faq") for d in (5, 4, 3)),
            Ev(at(2), path="/demo/checkout/payment"),
        ],
        {"pre_purchase_uncertainty"},
    ),
    "two help pages before checkout": (
        [*(Ev(at(d), path="/demo/help/returns") for d in (4, 3)), Ev(at(2), path="/demo/checkout")],
        set(),
    ),
    "three help pages after checkout": (
        [Ev(at(6), path="/demo/checkout"), *(Ev(at(d), path="/demo/faq") for d in (5, 4, 3))],
        set(),
    ),
    "two rage clicks in a visit": (clicks("rage_click", 2), {"rage_clicks"}),
    "rage clicks in two visits": (
        [*clicks("rage_click", 1, 2), *clicks("rage_click", 1, 1)],
        set(),
    ),
    "three dead clicks in a visit": (clicks("dead_click", 3), {"dead_clicks"}),
    "two dead clicks in a visit": (clicks("dead_click", 2), set()),
    "an abandoned form": (
        [Ev(at(1), "form_start"), Ev(at(1, 30), "form_abandon")],
        {"form_abandonment"},
    ),
    "a submitted form": ([Ev(at(1), "form_start"), Ev(at(1, 30), "form_submit")], set()),
    "contact twice in three weeks": (
        [Ev(at(d), path="/demo/contact") for d in (22, 1)],
        {"repeated_contact"},
    ),
    "two contact pages in one visit": (
        [Ev(at(1), path="/demo/contact"), Ev(at(1, 40), path="/demo/contact/complaint")],
        set(),
    ),
    "five visits then one": (
        [Ev(at(d)) for d in (26, 24, 21, 18, 16, 3)],
        {"declining_activity"},
    ),
    "steady visits": ([Ev(at(d)) for d in (26, 24, 21, 18, 12, 9, 6)], set()),
    "two quick backs": (quick_backs(2, 3, 2), {"quick_back"}),
    "one quick back": (quick_backs(2, 3, 1), set()),
    "two slow backs": (quick_backs(2, 30, 2), set()),
    "quick backs two weeks apart": ([*quick_backs(16, 3, 1), *quick_backs(2, 3, 1)], set()),
    "a checkout back twice, with two errors": (
        checkout(
            "cart",
            "shipping",
            "payment",
            "rage",
            "shipping",
            "payment",
            "dead",
            "cart",
            "shipping",
            "payment",
            "purchase",
        ),
        {"high_effort"},
    ),
    "a checkout back once": (
        checkout("cart", "shipping", "cart", "shipping", "payment", "purchase"),
        set(),
    ),
    "two purchases in one visit": (checkout(*STRAIGHT, *STRAIGHT), set()),
    "dead clicks after the purchase": (
        checkout(*STRAIGHT, "dead", "dead", "dead", "dead"),
        {"dead_clicks"},
    ),
    "dead clicks at the payment, then gone": (
        checkout("cart", "shipping", "payment", "dead", "dead", "dead", "dead", "dead"),
        {"dead_clicks", "high_effort", "shipping_cost_shock"},  # gone 2 min after shipping
    ),
}


@pytest.mark.parametrize(("events", "expected"), REFERENCE_CASES.values(), ids=REFERENCE_CASES)
def test_reference_rules_find_exactly_the_behaviour_they_describe(
    events: list[Ev], expected: set[str]
) -> None:
    assert found(*events) == expected
