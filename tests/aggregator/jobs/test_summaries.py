"""Daily site summaries: the numbers, k-suppression and reruns (both backends)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from aggregator.jobs.sessions import SessionsJob
from aggregator.jobs.summaries import SummariesJob
from aggregator.store.client import Store
from clearsignal.settings import Settings
from tests.support.event_history import (
    NOW,
    Visitor,
    anonymous_visitor,
    checkout,
    days_ago,
    save,
)

DAY = days_ago(1).date()
QUIET_DAY = days_ago(2).date()
SIGNAL_COLUMNS = (
    "site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end", "value",
    "evidence", "computed_at", "expires_at",
)  # fmt: skip


def published(store: Store, day: date) -> dict[tuple[str, str], tuple[float, int]]:
    rows = store.rows(
        "SELECT metric, dimension, value, visitors FROM site_summaries FINAL "
        "WHERE day = {day:Date} AND NOT suppressed",
        {"day": day},
    )
    return {(str(m), str(d)): (float(v), int(n)) for m, d, v, n in rows}


def hidden(store: Store, day: date) -> set[tuple[str, str]]:
    rows = store.rows(
        "SELECT metric, dimension, value, visitors FROM site_summaries FINAL "
        "WHERE day = {day:Date} AND suppressed",
        {"day": day},
    )
    assert all(v == 0 and n == 0 for _, _, v, n in rows), "a suppressed row kept its numbers"
    return {(str(m), str(d)) for m, d, _, _ in rows}


def signals(store: Store, rule: str, visitors: list[Visitor]) -> None:
    at = days_ago(1, 30)
    rows = [
        ("demo", v.key, rule, 1, at, at, 3.0, [], at, at + timedelta(days=180)) for v in visitors
    ]
    store.insert("signals", rows, SIGNAL_COLUMNS)


@pytest.fixture
def shop_day(migrated_store: Store) -> dict[str, list[Visitor]]:
    """40 visitors on DAY (30 identified), 6 on QUIET_DAY."""
    identified = [Visitor(f"{n:032x}") for n in range(30)]
    anonymous = [anonymous_visitor() for _ in range(10)]
    for n, visitor in enumerate(identified + anonymous):
        visitor.add(days_ago(1, n), path="/demo/")
        visitor.add(days_ago(1, n + 1), path="/demo/products")
    for n, visitor in enumerate(identified[:20]):
        visitor.add(days_ago(1, n + 2), "step", name="cart")
        if n < 15:
            visitor.add(days_ago(1, n + 3), "step", name="shipping")
        if n < 8:
            visitor.add(days_ago(1, n + 4), "step", name="payment")
    for n, visitor in enumerate(identified[:11]):
        visitor.add(days_ago(1, n + 5), "rage_click", path="/demo/cart", element={"sel": "#pay"})
        visitor.add(days_ago(1, n + 5.5), "rage_click", path="/demo/cart", element={"sel": "#pay"})
    for visitor in identified[11:14]:
        visitor.add(days_ago(1, 20), "dead_click", path="/demo/faq", element={"sel": "h2"})
    quiet = [anonymous_visitor() for _ in range(6)]
    for visitor in quiet:
        visitor.add(days_ago(2))
    save(migrated_store, *identified, *anonymous, *quiet)
    signals(migrated_store, "price_uncertainty", identified[:12])
    signals(migrated_store, "quick_back", identified[:25])
    signals(migrated_store, "rage_clicks", identified[:4])
    return {"identified": identified, "anonymous": anonymous}


def run_jobs(store: Store, settings: Settings, **kwargs: Any) -> None:
    SessionsJob(store, settings, clock=lambda: NOW).run_once(**kwargs)
    SummariesJob(store, settings, clock=lambda: NOW).run_once(**kwargs)


def test_a_day_is_summarised_with_every_small_group_hidden(
    migrated_store: Store, settings: Settings, shop_day: dict[str, list[Visitor]]
) -> None:
    run_jobs(migrated_store, settings)
    assert published(migrated_store, DAY) == {
        ("visitors", ""): (40, 40),
        ("identified_visitors", ""): (30, 30),
        ("sessions", ""): (40, 40),
        ("pageviews", ""): (80, 40),
        ("funnel_reached", "01 cart"): (20, 20),
        # shipping (15) would reveal the 5 who stopped after the cart; payment (8) is small.
        ("funnel_reached", "04 purchase"): (0, 0),
        ("signal_visitors", "price_uncertainty"): (12, 12),
        ("rage_click", "/demo/cart #pay"): (22, 11),
        # 8 checkouts of 3 steps and 3 of 2, each with 2 rage clicks on the way
        ("effort", "checkout 4-5"): (11, 11),
    }
    assert hidden(migrated_store, DAY) == {
        ("effort", "checkout 1"),  # the 5 who stopped after the cart
        ("effort", "checkout 2"),  # 1 who stopped after shipping
        ("effort", "checkout 3"),  # 3 who stopped after shipping with a dead click
        ("funnel_reached", "02 shipping"),
        ("funnel_reached", "03 payment"),
        ("signal_visitors", "quick_back"),  # 30 - 25: five identified visitors without it
        ("signal_visitors", "rage_clicks"),
        ("dead_click", "/demo/faq h2"),
    }
    assert published(migrated_store, QUIET_DAY) == {}
    assert ("visitors", "") in hidden(migrated_store, QUIET_DAY)


def test_no_small_group_can_be_derived_from_what_is_published(
    migrated_store: Store, settings: Settings, shop_day: dict[str, list[Visitor]]
) -> None:
    run_jobs(migrated_store, settings)
    day = published(migrated_store, DAY)
    k = settings.sites[0].k_anonymity
    chain = [n for (metric, _), (_, n) in sorted(day.items()) if metric == "funnel_reached"]
    for a, b in itertools.combinations([day[("visitors", "")][1], *chain], 2):
        assert a - b == 0 or abs(a - b) >= k
    totals = [day[("visitors", "")][1], day[("identified_visitors", "")][1]]
    for (metric, _), (_, n) in day.items():
        assert n == 0 or n >= k
        if metric in ("signal_visitors", "identified_visitors"):
            assert all(t - n == 0 or t - n >= k for t in totals if t >= n)


def test_rerunning_changes_nothing_and_a_shrunken_group_is_hidden_again(
    migrated_store: Store, settings: Settings, shop_day: dict[str, list[Visitor]]
) -> None:
    run_jobs(migrated_store, settings)
    first = migrated_store.rows("SELECT * FROM site_summaries FINAL ORDER BY ALL")
    run_jobs(migrated_store, settings)
    run_jobs(migrated_store, settings, since=days_ago(10))
    assert migrated_store.rows("SELECT * FROM site_summaries FINAL ORDER BY ALL") == first
    gone = [v.key for v in shop_day["identified"][:2]]  # two rage clickers erased
    for table in ("events", "signals"):
        migrated_store.command(
            f"ALTER TABLE {table} DELETE WHERE visitor_key IN {{keys:Array(String)}} "
            "SETTINGS mutations_sync = 2",
            {"keys": gone},
        )
    run_jobs(migrated_store, settings, since=days_ago(10))
    assert ("rage_click", "/demo/cart #pay") in hidden(migrated_store, DAY)
    assert published(migrated_store, DAY)[("visitors", "")] == (38, 38)


def test_support_journeys_and_checkouts_are_published_by_effort_each_bucket_with_k_customers(
    migrated_store: Store, settings: Settings
) -> None:
    from aggregator.reports.dashboard import read_dashboard
    from collector.admin.dashboard_page import render_dashboard

    day = days_ago(3)
    customers = [Visitor(f"e{n:031x}") for n in range(26)]
    for n, customer in enumerate(customers):
        ticket = f"T{n}"
        customer.server(day, "contact", "opened", ticket=ticket, topic="delivery")
        if n < 12:  # 12 journeys of one step (the resolution is no effort)
            customer.server(day, "contact", "resolved", ticket=ticket, topic="delivery")
        elif n < 23:  # 11 of two steps
            customer.server(day, "contact", "reopened", ticket=ticket, topic="delivery")
        else:  # 3 of six steps: fewer than k = 10 customers
            customer.server(day, "contact", "escalated", ticket=ticket, topic="delivery")
            customer.server(day, "handover", "handed_over", quantity=4, ticket=ticket)
    # Ten checkouts begun a minute before midnight: the first run sees only their carts.
    midnight = day.replace(hour=0, minute=0) - timedelta(minutes=1)
    straight = [Visitor(f"s{n:031x}") for n in range(10)]
    for v in straight:
        checkout(v, midnight, "cart")
    once_back = [Visitor(f"b{n:031x}") for n in range(10)]
    for v in once_back:
        checkout(v, day, "cart", "shipping", "cart", "shipping", "payment", "purchase")
    save(migrated_store, *customers, *straight, *once_back)
    SummariesJob(migrated_store, settings, clock=lambda: NOW).run_once()
    the_day_before = (day - timedelta(days=1)).date()
    assert published(migrated_store, the_day_before)[("effort", "checkout 1")] == (10.0, 10)
    # The rest of them arrives late, all after midnight: the checkouts end on the day, and
    # the day before no longer has them.
    for v in straight:
        rest = Visitor(v.key)
        for n, step in enumerate(("shipping", "payment", "purchase"), start=1):
            rest.add(midnight + timedelta(minutes=n), "step", name=step, ingested_at=NOW)
        save(migrated_store, rest)
    SummariesJob(migrated_store, settings, clock=lambda: NOW).run_once()
    assert ("effort", "checkout 1") not in published(migrated_store, the_day_before)
    found = published(migrated_store, day.date())
    assert found[("effort", "checkout 4-5")] == (10.0, 10)
    assert found[("effort", "checkout 6-9")] == (10.0, 10)
    assert ("effort", "checkout 3") not in found
    assert found[("effort", "support_journey 1")] == (12.0, 12)
    assert found[("effort", "support_journey 2")] == (11.0, 11)
    assert ("effort", "support_journey 6-9") in hidden(migrated_store, day.date())
    page = render_dashboard(read_dashboard(migrated_store, settings.sites[0], NOW.date(), 7))
    assert "Customer effort" in page
    assert "1 steps: 12 support journeys" in page
    assert "6-9 steps: fewer than 10" in page
    assert "4-5 steps: 10 checkouts" in page
