"""The rules over the site's own systems, computed in ClickHouse from hand-made histories
(both backends): each finds its planted visitor and none of the look-alikes beside it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest

from aggregator.jobs.signals import SignalsJob
from aggregator.signals.effort import EFFORT_COUNTS
from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.support.event_history import NOW, Visitor, checkout, days_ago, save


class Shop:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.ledger = ConsentLedger(store, settings, SiteKeys(settings.site_key_dir))
        self.settings = settings
        self.job = SignalsJob(store, settings, clock=lambda: NOW)

    def visitor(self, consent: bool = True) -> Visitor:
        browser_id = secrets.token_urlsafe(16)
        if consent:
            choices = {Purpose.ANALYTICS: True}
            self.ledger.record(ConsentDecision("demo", browser_id, choices, "1", "banner"))
        return Visitor(self.ledger.visitor_key("demo", browser_id))

    def found(self, *visitors: Visitor) -> dict[str, set[str]]:
        """Rule id -> which of ``visitors`` (by their index) it found, after a run."""
        save(self.store, *visitors)
        self.job.run_once()
        rows = self.store.rows("SELECT rule_id, visitor_key FROM signals FINAL")
        names = {v.key: str(i) for i, v in enumerate(visitors)}
        found: dict[str, set[str]] = {}
        for rule_id, key in rows:
            found.setdefault(str(rule_id), set()).add(names.get(str(key), "?"))
        return found


@pytest.fixture
def shop(migrated_store: Store, settings: Settings) -> Shop:
    return Shop(migrated_store, settings)


def complaint(v: Visitor, day: float) -> None:
    v.server(days_ago(day), "complaint", "filed", category="late_delivery")


def contact(v: Visitor, day: float, action: str = "opened", topic: str = "delivery") -> None:
    v.server(days_ago(day), "contact", action, ticket=f"T-{topic}", topic=topic, channel="email")


def test_repeated_complaints_two_within_thirty_days(shop: Shop) -> None:
    two, spread, one, withheld = shop.visitor(), shop.visitor(), shop.visitor(), shop.visitor(False)
    for v, days in ((two, (20, 3)), (spread, (60, 5)), (one, (3,)), (withheld, (9, 2))):
        for day in days:
            complaint(v, day)
    found = shop.found(two, spread, one, withheld)
    assert found.get("repeated_complaints") == {"0"}


def test_an_event_of_the_sites_systems_alone_brings_its_visitor_into_the_next_run(
    shop: Shop,
) -> None:
    customer = shop.visitor()
    complaint(customer, 20)
    assert "repeated_complaints" not in shop.found(customer)
    # Minutes later, the site's systems send a second complaint, and nothing comes from the
    # browser: the run, which looks at everyone only once an hour, looks at this customer.
    customer.server_events.clear()
    complaint(customer, 0.01)
    assert shop.found(customer).get("repeated_complaints") == {"0"}


def test_the_medians_are_counted_at_each_look_at_everyone_and_kept_in_between(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [NOW]
    shop.job = SignalsJob(shop.store, shop.settings, clock=lambda: now[0])
    counted: list[datetime] = []
    rows = Store.rows

    def recorded(store: Store, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        if EFFORT_COUNTS in sql:
            counted.append(now[0])
        return rows(store, sql, parameters)

    monkeypatch.setattr(Store, "rows", recorded)
    customer = shop.visitor()
    contact(customer, 3)
    shop.found(customer)  # the first run looks at everyone
    assert counted == [NOW]
    now[0] = NOW + timedelta(minutes=30)
    contact(customer, 0.01, "reopened")
    shop.found(customer)  # its new contact is judged against the medians of the last look
    assert counted == [NOW]
    now[0] = NOW + timedelta(minutes=61)
    shop.found(customer)
    assert counted == [NOW, now[0]]


def test_repeat_contact_without_resolution_on_one_topic(shop: Shop) -> None:
    chased, resolved_between, other_topics, far_apart = (shop.visitor() for _ in range(4))
    contact(chased, 6)
    contact(chased, 2, "reopened")
    contact(resolved_between, 6)
    contact(resolved_between, 5, "resolved")
    contact(resolved_between, 2)
    contact(other_topics, 6, topic="billing")
    contact(other_topics, 2, topic="delivery")
    contact(far_apart, 40)
    contact(far_apart, 2)
    found = shop.found(chased, resolved_between, other_topics, far_apart)
    assert found.get("unresolved_repeat_contact") == {"0"}


def test_escalation_and_downgrade(shop: Shop) -> None:
    escalated, upgraded, downgraded, chased = (shop.visitor() for _ in range(4))
    contact(escalated, 3, "escalated")
    upgraded.server(days_ago(3), "subscription", "upgraded", 30.0, plan="pro")
    downgraded.server(days_ago(3), "subscription", "downgraded", 9.0, plan="basic")
    chased.server(days_ago(3), "subscription", "cancelled", 9.0, plan="basic")
    contact(chased, 4)
    contact(chased, 3, "reopened")
    found = shop.found(escalated, upgraded, downgraded, chased)
    assert found.get("escalation") == {"0"}
    assert found.get("downgrade") == {"2"}


def test_purchase_decline_against_the_customers_own_rate(shop: Shop) -> None:
    declined, steady, new, occasional = (shop.visitor() for _ in range(4))
    for day in range(50, 165, 15):  # eight orders over the earlier four months
        declined.server(days_ago(day), "order", "placed", 40.0, 2, order=f"o{day}")
        steady.server(days_ago(day), "order", "placed", 40.0, 2, order=f"o{day}")
    for day in (40, 25, 10):  # steady keeps its rhythm
        steady.server(days_ago(day), "order", "placed", 40.0, 2, order=f"n{day}")
    for day in (40, 10):
        new.server(days_ago(day), "order", "placed", 40.0, 1, order=f"o{day}")
    for day in (150, 100):
        occasional.server(days_ago(day), "order", "placed", 40.0, 1, order=f"o{day}")
    found = shop.found(declined, steady, new, occasional)
    assert found.get("purchase_decline") == {"0"}


def test_service_failure_is_a_breach_or_repeated_handovers(shop: Shop) -> None:
    breached, handed, once, spread = (shop.visitor() for _ in range(4))
    breached.server(days_ago(2), "sla_breach", "breached", 95.0, commitment="first_response_4h")
    handed.server(days_ago(5), "handover", "handed_over", quantity=2, ticket="T1")
    handed.server(days_ago(3), "handover", "handed_over", quantity=1, ticket="T1")
    once.server(days_ago(3), "handover", "handed_over", quantity=2, ticket="T2")
    spread.server(days_ago(80), "handover", "handed_over", quantity=2, ticket="T3")
    spread.server(days_ago(3), "handover", "handed_over", quantity=2, ticket="T4")
    found = shop.found(breached, handed, once, spread)
    assert found.get("service_failure") == {"0", "1"}


def test_churn_risk_needs_fewer_visits_and_more_contacts_together(shop: Shop) -> None:
    leaving, only_quiet, only_contacts, both_steady = (shop.visitor() for _ in range(4))
    for v in (leaving, only_quiet, only_contacts, both_steady):
        for day in (27, 24, 21, 18, 16):  # five visits in the earlier fortnight
            v.add(days_ago(day))
    for v in (only_contacts, both_steady):
        for day in (12, 9, 6, 3, 1):  # and as many in the recent one
            v.add(days_ago(day))
    for v in (leaving, only_contacts):
        contact(v, 5)
        complaint(v, 2)
    contact(only_quiet, 20)  # contacts fell, not rose
    contact(only_quiet, 19)
    found = shop.found(leaving, only_quiet, only_contacts, both_steady)
    assert found.get("churn_risk") == {"0"}
    evidence = shop.store.scalar(
        "SELECT arrayMap(e -> e.3, evidence) FROM signals FINAL WHERE rule_id = 'churn_risk'"
    )
    assert "visit" in evidence
    assert "contact: delivery" in evidence
    assert "complaint: late_delivery" in evidence


def test_high_effort_is_far_above_the_sites_median_journey(shop: Shop) -> None:
    typical = [shop.visitor() for _ in range(5)]
    for i, v in enumerate(typical):
        contact(v, 4, topic=f"t{i}")
        contact(v, 3, "resolved", topic=f"t{i}")
    hard = shop.visitor()
    contact(hard, 9, topic="refund")
    contact(hard, 7, "reopened", topic="refund")
    contact(hard, 6, "escalated", topic="refund")
    hard.server(days_ago(5), "handover", "handed_over", quantity=2, ticket="T-refund")
    found = shop.found(*typical, hard)
    assert found.get("high_effort") == {"5"}
    assert shop.store.scalar("SELECT value FROM signals FINAL WHERE rule_id = 'high_effort'") == 5.0


def test_high_effort_is_a_checkout_far_above_the_sites_median_checkout(shop: Shop) -> None:
    straight = ("cart", "shipping", "payment", "purchase")
    typical = [shop.visitor() for _ in range(5)]
    for v in typical:
        checkout(v, days_ago(4), *straight)
    struggled = shop.visitor()  # 8 steps, 2 back, 2 errors: 12
    checkout(struggled, days_ago(3), "cart", "shipping", "payment", "rage", "shipping", "payment",
             "dead", "cart", "shipping", "purchase")  # fmt: skip
    once_back = shop.visitor()  # 6 steps and 1 back: 7, under twice the 4 it reached
    checkout(once_back, days_ago(3), "cart", "shipping", "cart", "shipping", "payment", "purchase")
    errors_elsewhere = shop.visitor()  # rage clicks before the checkout began are not in it
    for n in range(6):
        errors_elsewhere.add(days_ago(2, minutes=-10 + n), "rage_click", "/demo/p/1",
                             element={"sel": "#sizes>button"})  # fmt: skip
    checkout(errors_elsewhere, days_ago(2), *straight)
    unknown_steps = shop.visitor()  # steps outside the site's funnel are not checkout steps
    checkout(unknown_steps, days_ago(2), *(["newsletter", "survey"] * 5))
    twice = shop.visitor()  # two purchases in one visit: two checkouts of 4
    checkout(twice, days_ago(2), *straight, *straight)
    errors_after = shop.visitor()  # dead clicks after the purchase are not on its way
    checkout(errors_after, days_ago(2), *straight, "dead", "dead", "dead", "dead", "dead")
    abandoned = shop.visitor()  # 3 steps and 5 errors, and never finished: 8 >= 2 x 4
    checkout(abandoned, days_ago(2), "cart", "shipping", "payment", *["rage"] * 5)
    found = shop.found(
        *typical, struggled, once_back, errors_elsewhere, unknown_steps, twice, errors_after,
        abandoned,
    )  # fmt: skip
    assert found.get("high_effort") == {"5", "11"}
    value, evidence = shop.store.rows(
        "SELECT value, arrayMap(e -> e.3, evidence) FROM signals FINAL "
        "WHERE rule_id = 'high_effort' AND visitor_key = {key:String}",
        {"key": struggled.key},
    )[0]
    assert value == 12.0
    assert evidence[:5] == [
        "step cart", "step shipping", "step payment", "rage click on #pay>button",
        "back to step shipping",
    ]  # fmt: skip
    assert evidence.count("back to step cart") == 1


def test_a_checkout_is_judged_against_the_sites_own_funnel(
    migrated_store: Store, settings: Settings
) -> None:
    """With a three-step funnel, going back once in it is far above going straight."""
    site = settings.sites[0].model_copy(update={"funnel": ["basket", "address", "pay"]})
    shop = Shop(migrated_store, settings.model_copy(update={"sites": [site]}))
    typical = [shop.visitor() for _ in range(3)]
    for v in typical:
        checkout(v, days_ago(4), "basket", "address", "pay")
    back_and_forth = shop.visitor()  # 5 steps and 1 back: 6 >= 2 x 3
    checkout(back_and_forth, days_ago(2), "basket", "address", "basket", "address", "pay")
    found = shop.found(*typical, back_and_forth)
    assert found.get("high_effort") == {"3"}
