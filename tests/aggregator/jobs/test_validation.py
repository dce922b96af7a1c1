"""The validation report: the 2x2 counts per rule computed in ClickHouse, Wilson
intervals, suppression under k (both backends for the job)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.jobs.validation import ValidationJob
from aggregator.signals.rules import RULES
from aggregator.signals.validation_report import read_validation, wilson_interval
from aggregator.store.client import Store
from clearsignal.settings import Settings
from tests.support.event_history import NOW, Visitor, days_ago, save

SIGNAL_COLUMNS = (
    "site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end", "value",
    "evidence", "computed_at", "expires_at",
)  # fmt: skip


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Examples from Newcombe (1998), Statistics in Medicine 17, and the closed form.
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_matches_the_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    found = wilson_interval(successes, trials)
    assert found == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_of_nothing_is_everything_and_bad_counts_fail() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def cohort(prefix: str, count: int) -> list[Visitor]:
    return [Visitor(f"{prefix}{n:031x}") for n in range(count)]


def test_goal_rates_with_and_without_a_signal(migrated_store: Store, settings: Settings) -> None:
    flagged, others = cohort("a", 30), cohort("b", 40)
    for visitor in flagged + others:
        visitor.add(days_ago(20))
    signal_end = days_ago(15)
    for visitor in flagged[:12]:  # 12 buy after their signal
        visitor.add(days_ago(10), "step", name="purchase")
    for visitor in flagged[12:22]:  # 10 bought only before it: not "later"
        visitor.add(days_ago(17), "step", name="purchase")
    for visitor in others[:20]:  # 20 of the others reach the purchase page
        visitor.add(days_ago(5), path="/demo/checkout/complete")
    save(migrated_store, *flagged, *others)
    migrated_store.insert(
        "signals",
        [
            ("demo", v.key, "price_uncertainty", 1, signal_end - timedelta(days=3), signal_end,
             3.0, [], signal_end, signal_end + timedelta(days=180))
            for v in flagged
        ],
        SIGNAL_COLUMNS,
    )  # fmt: skip
    ValidationJob(migrated_store, settings, clock=lambda: NOW).run_once()
    report = {r.rule_id: r for r in read_validation(migrated_store, "demo")}
    assert set(report) == {rule.id for rule in RULES}
    price = report["price_uncertainty"]
    assert not price.suppressed
    assert (price.with_visitors, price.with_goal) == (30, 12)
    assert (price.without_visitors, price.without_goal) == (40, 20)
    assert price.difference == pytest.approx(12 / 30 - 20 / 40)
    assert price.with_interval == pytest.approx(wilson_interval(12, 30))
    assert price.label == "association, not causation"
    # No one has this signal: the "with" cell is empty, the others are large enough.
    assert (report["quick_back"].with_visitors, report["quick_back"].without_visitors) == (0, 70)
    first = migrated_store.rows("SELECT * FROM signal_validation FINAL ORDER BY ALL")
    ValidationJob(migrated_store, settings, clock=lambda: NOW + timedelta(hours=3)).run_once()
    assert migrated_store.rows("SELECT * FROM signal_validation FINAL ORDER BY ALL") == first


def test_a_rule_with_a_small_cell_is_stored_without_its_counts(
    migrated_store: Store, settings: Settings
) -> None:
    flagged, others = cohort("c", 14), cohort("d", 40)
    for visitor in flagged + others:
        visitor.add(days_ago(20))
    for visitor in flagged[:4]:  # 4 buyers among the flagged: a group under k
        visitor.add(days_ago(2), "step", name="purchase")
    save(migrated_store, *flagged, *others)
    end = days_ago(15)
    migrated_store.insert(
        "signals",
        [("demo", v.key, "rage_clicks", 1, end, end, 2.0, [], end, end + timedelta(days=9))
         for v in flagged],
        SIGNAL_COLUMNS,
    )  # fmt: skip
    ValidationJob(migrated_store, settings, clock=lambda: NOW).run_once()
    rage = {r.rule_id: r for r in read_validation(migrated_store, "demo")}["rage_clicks"]
    assert rage.suppressed
    assert (rage.with_visitors, rage.with_goal, rage.without_visitors) == (0, 0, 0)
    stored = migrated_store.rows(
        "SELECT with_visitors, with_goal FROM signal_validation WHERE rule_id = 'rage_clicks'"
    )
    assert stored == [(0, 0)]


def test_rules_over_the_sites_systems_are_related_to_a_later_cancellation_or_order(
    migrated_store: Store, settings: Settings
) -> None:
    flagged, others = cohort("c", 30), cohort("d", 40)
    for visitor in flagged + others:
        visitor.server(days_ago(40), "order", "placed", 50.0, 1, order="o1")
    signal_end = days_ago(30)
    for visitor in flagged[:20]:  # 20 cancel after their finding
        visitor.server(days_ago(20), "subscription", "cancelled", 9.0, plan="basic")
    for visitor in flagged[20:]:  # the others order again
        visitor.server(days_ago(10), "order", "placed", 50.0, 1, order="o2")
    for visitor in others[:10]:  # 10 of the rest cancel, 30 order again
        visitor.server(days_ago(20), "order", "refunded", 50.0, 1, order="o1")
    for visitor in others[10:]:
        visitor.server(days_ago(10), "order", "placed", 50.0, 1, order="o2")
    save(migrated_store, *flagged, *others)
    migrated_store.insert(
        "signals",
        [
            ("demo", v.key, rule, 1, signal_end - timedelta(days=3), signal_end, 2.0, [],
             signal_end, signal_end + timedelta(days=180))
            for v in flagged
            for rule in ("repeated_complaints", "purchase_decline")
        ],
        SIGNAL_COLUMNS,
    )  # fmt: skip
    ValidationJob(migrated_store, settings, clock=lambda: NOW).run_once()
    report = {r.rule_id: r for r in read_validation(migrated_store, "demo")}
    complaints, decline = report["repeated_complaints"], report["purchase_decline"]
    assert complaints.goal == "cancellation"
    assert (complaints.with_visitors, complaints.with_goal) == (30, 20)
    assert (complaints.without_visitors, complaints.without_goal) == (40, 10)
    assert decline.goal == "order_placed"
    assert (decline.with_visitors, decline.with_goal) == (30, 10)
    # every customer's first order is at its first event: it counts for those without
    assert (decline.without_visitors, decline.without_goal) == (40, 40)
    assert report["price_uncertainty"].goal == "purchase"
