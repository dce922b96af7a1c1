"""Cases opened from findings about consenting customers, what the team does with them, and
what happens when consent goes (store tests on both backends)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.cases.book import CaseRefused
from aggregator.cases.state import Action, CaseStatus, priorities
from aggregator.store.client import Store
from consent.customer_erasure import erase_customer
from consent.customer_references import CustomerReferences
from tests.support.case_shop import CaseShop, case_settings


@pytest.fixture
def shop(migrated_store: Store, tmp_path: Path, dsn: str, database: str) -> CaseShop:
    return CaseShop.open(migrated_store, case_settings(tmp_path, dsn, database))


def test_an_actionable_finding_about_a_consenting_customer_opens_one_case(shop: CaseShop) -> None:
    who = shop.customer()
    shop.finding(who, "churn_risk")

    assert shop.run() == (1, 0)
    assert shop.run() == (0, 0)  # the same finding again: no second case

    (case,) = shop.book().states("demo")
    assert (case.record.customer_key, case.record.rule_id) == (who.customer_key, "churn_risk")
    assert case.record.weight == 3.0  # the default weight of churn_risk
    assert (case.status, case.owner, case.first_response_at) == (CaseStatus.OPEN, "", None)
    references = CustomerReferences(shop.store, shop.ledger.site_key("demo"))
    assert references.opened("demo", [who.customer_key]) == {who.customer_key: who.reference}
    stored = shop.store.scalar("SELECT groupArray(sealed) FROM customer_references")
    assert who.reference not in str(stored)  # sealed, never in the clear


def test_no_case_without_personalization_a_link_or_an_actionable_rule(shop: CaseShop) -> None:
    analytics_only = shop.customer(personalization=False)
    shop.finding(analytics_only, "churn_risk")
    browser_rule = shop.customer()
    shop.finding(browser_rule, "price_uncertainty")  # not actionable by default
    stale = shop.customer()
    shop.finding(stale, "churn_risk", ended=timedelta(days=8))  # before the recent week

    assert shop.run() == (0, 0)
    assert shop.book().states("demo") == []


def test_an_open_case_holds_back_further_findings_of_its_rule(shop: CaseShop) -> None:
    who = shop.customer()
    shop.finding(who, "churn_risk", ended=timedelta(days=3))
    assert shop.run() == (1, 0)
    shop.finding(who, "churn_risk", ended=timedelta(hours=1))  # a later window, same rule
    shop.finding(who, "repeated_complaints")
    assert shop.run() == (1, 0)  # only the other rule's

    book = shop.book()
    churn = next(c for c in book.states("demo") if c.record.rule_id == "churn_risk")
    book.act(churn, Action.RESOLVED, "admin:ana", now=shop.clock.now)
    shop.clock.advance(timedelta(hours=1))
    shop.finding(who, "churn_risk", ended=timedelta(minutes=1))
    assert shop.run() == (1, 0)  # resolved: the next finding opens a new case
    assert sorted(c.record.rule_id for c in book.states("demo") if c.is_open) == [
        "churn_risk",
        "repeated_complaints",
    ]


def test_the_team_claims_contacts_and_resolves_and_the_times_are_measured(shop: CaseShop) -> None:
    who = shop.customer()
    shop.finding(who)
    shop.run()
    book = shop.book()
    (case,) = book.states("demo")
    opened = case.record.opened_at

    shop.clock.advance(timedelta(minutes=30))
    case = book.act(case, Action.CLAIMED, "admin:ana", now=shop.clock.now)
    shop.clock.advance(timedelta(hours=2))
    case = book.act(
        case, Action.CONTACTED, "admin:ana", "Called about the late parcel.", now=shop.clock.now
    )
    shop.clock.advance(timedelta(hours=20))
    case = book.act(case, Action.RESOLVED, "api:0123456789ab", now=shop.clock.now)

    (read,) = book.states("demo")
    assert (read.status, read.owner) == (CaseStatus.RESOLVED, "admin:ana")
    assert read.response_time() == timedelta(hours=2, minutes=30)
    assert read.resolution_time() == timedelta(hours=22, minutes=30)
    assert read.first_response_at is not None
    assert read.first_response_at - opened == read.response_time()
    noted = next(step for step in read.actions if step.action == Action.CONTACTED)
    assert book.note(read, noted) == "Called about the late parcel."
    raw = shop.store.scalar("SELECT groupArray(note) FROM case_actions")
    assert "late parcel" not in str(raw)  # sealed in the store

    with pytest.raises(CaseRefused, match="resolved case cannot be resolved"):
        book.act(read, Action.RESOLVED, "admin:ana")
    with pytest.raises(CaseRefused, match="at most"):
        book.act(read, Action.NOTED, "admin:ana", "x" * 501)
    reopened = book.act(read, Action.REOPENED, "admin:bo", now=shop.clock.now)
    assert (reopened.status, reopened.resolved_at) == (CaseStatus.OPEN, None)
    with pytest.raises(CaseRefused, match="owner"):
        book.act(reopened, Action.RELEASED, "admin:bo")


def test_priority_weighs_the_rule_recency_and_the_customers_other_cases(shop: CaseShop) -> None:
    busy, calm = shop.customer(), shop.customer()
    shop.finding(busy, "churn_risk")
    shop.finding(busy, "escalation")
    shop.finding(calm, "churn_risk", ended=timedelta(hours=49))
    shop.run()
    cases = shop.book().states("demo")
    ranked = priorities(cases, shop.clock.now)
    by = {(c.record.customer_key, c.record.rule_id): ranked[c.record.case_id] for c in cases}
    # 100 x weight x 0.5^(hours since the window ended / 48) x (1 + 0.5 per other open case)
    assert by[busy.customer_key, "churn_risk"] == round(100 * 3.0 * 0.5 ** (1 / 48) * 1.5)
    assert by[busy.customer_key, "escalation"] == round(100 * 2.0 * 0.5 ** (1 / 48) * 1.5)
    assert by[calm.customer_key, "churn_risk"] == round(100 * 3.0 * 0.5 ** (49 / 48))


def test_a_customer_who_withdraws_personalization_loses_every_case_row(shop: CaseShop) -> None:
    who, stays = shop.customer(), shop.customer()
    shop.finding(who)
    shop.finding(stays)
    shop.run()
    book = shop.book()
    for case in book.states("demo"):
        book.act(case, Action.NOTED, "admin:ana", "Offered a call back.")

    shop.decide(who.browser_id, analytics=True, personalization=False)
    assert shop.run() == (0, 1)

    for table in ("cases", "case_actions", "customer_references"):
        assert shop.count(table, who) == 0, table
        assert shop.count(table, stays) > 0, table
    assert [c.record.customer_key for c in book.states("demo")] == [stays.customer_key]
    shop.finding(who, "escalation")
    assert shop.run() == (0, 0)  # and no new case opens for them


def test_a_sites_cases_stay_its_own(shop: CaseShop) -> None:
    mine, theirs = shop.customer(site="demo"), shop.customer(site="other")
    shop.finding(mine)
    shop.finding(theirs)
    assert shop.run() == (2, 0)
    assert [c.record.customer_key for c in shop.book("demo").states("demo")] == [mine.customer_key]
    assert [c.record.customer_key for c in shop.book("other").states("other")] == [
        theirs.customer_key
    ]
    other_key = CustomerReferences(shop.store, shop.ledger.site_key("other"))
    # a sealed reference opens only under its own site's key
    assert other_key.opened("demo", [mine.customer_key]) == {}


def test_the_sites_deletion_by_reference_removes_the_case_and_the_reference_at_once(
    shop: CaseShop,
) -> None:
    who, stays = shop.customer(), shop.customer()
    shop.finding(who)
    shop.finding(stays)
    shop.run()

    erase_customer(shop.ledger, shop.store, shop.site(), who.reference)

    assert shop.count("cases", who) == 0
    assert shop.count("customer_references", who) == 0
    assert shop.count("cases", stays) == 1
