"""Did answering help: the later outcome of answered and unanswered customers per rule,
against a hand count, and a table with a small cell not shown (both backends)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.cases.outcomes import case_outcomes
from aggregator.cases.state import Action
from aggregator.jobs.validation import goal_condition
from aggregator.store.client import Store
from collector.ingest.server_events.rows import SERVER_EVENT_COLUMNS
from tests.support.case_shop import CaseShop, Customer, case_settings


@pytest.fixture
def shop(migrated_store: Store, tmp_path: Path, dsn: str, database: str) -> CaseShop:
    settings = case_settings(tmp_path, dsn, database)
    demo = settings.sites[0].model_copy(update={"k_anonymity": 2})
    return CaseShop.open(
        migrated_store, settings.model_copy(update={"sites": [demo, *settings.sites[1:]]})
    )


def cancel(shop: CaseShop, who: Customer, after: timedelta) -> None:
    at = shop.clock.now + after
    row = [
        who.site, who.visitor_key, who.customer_key, secrets.token_hex(6), "subscription",
        "cancelled", at, {"plan": "pro"}, 0.0, "", 0, "consent", "api", at,
        at + timedelta(days=180),
    ]  # fmt: skip
    shop.store.insert("server_events", [row], SERVER_EVENT_COLUMNS)


def test_answered_and_unanswered_customers_are_compared_by_hand_count(shop: CaseShop) -> None:
    customers = [shop.customer() for _ in range(9)]
    for who in customers:
        shop.finding(who, "churn_risk")
    shop.run()
    book = shop.book()
    by_customer = {c.record.customer_key: c for c in book.states("demo")}
    for who in customers[:4]:  # answered
        book.act(
            by_customer[who.customer_key],
            Action.CONTACTED,
            "admin:ana",
            now=shop.clock.now + timedelta(hours=2),
        )
    for who in customers[:2]:  # answered, cancelled later
        cancel(shop, who, timedelta(days=3))
    for who in customers[4:7]:  # unanswered, three cancelled later
        cancel(shop, who, timedelta(days=2))
    cancel(shop, customers[7], timedelta(days=-1))  # cancelled before the case: not later
    # customers[8]: unanswered, never cancelled
    now = shop.clock.now + timedelta(days=5)

    (found,) = case_outcomes(
        shop.store, shop.site(), goal_condition(shop.site()), book.states("demo"), now,
        now - timedelta(days=30),
    )  # fmt: skip

    assert (found.rule_id, found.outcome, found.suppressed) == ("churn_risk", "cancellation", False)
    assert (found.responded, found.responded_outcome) == (4, 2)
    assert (found.unanswered, found.unanswered_outcome) == (5, 3)
    rate = found.rate(True)
    assert rate is not None
    assert rate[0] == 0.5
    assert rate[1] < 0.5 < rate[2]
    assert found.difference == pytest.approx(0.5 - 0.6)


def test_a_table_with_a_cell_under_k_is_not_shown(shop: CaseShop) -> None:
    customers = [shop.customer() for _ in range(5)]
    for who in customers:
        shop.finding(who, "escalation")
    shop.run()
    book = shop.book()
    first = next(
        c for c in book.states("demo") if c.record.customer_key == customers[0].customer_key
    )
    book.act(first, Action.RESOLVED, "admin:ana", now=shop.clock.now + timedelta(hours=1))
    now = shop.clock.now + timedelta(days=2)

    (found,) = case_outcomes(
        shop.store, shop.site(), goal_condition(shop.site()), book.states("demo"), now,
        now - timedelta(days=30),
    )  # fmt: skip

    assert found.suppressed  # one answered customer: a cell of 1 < k = 2
    assert (found.responded, found.unanswered, found.rate(True), found.difference) == (
        0,
        0,
        None,
        None,
    )
