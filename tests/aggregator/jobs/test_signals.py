"""Signal rules computed in ClickHouse from hand-made event histories (both backends)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.jobs.signals import SignalsJob
from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from consent.entries import ConsentDecision
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from tests.support.event_history import NOW, Visitor, anonymous_visitor, days_ago, save


@dataclass
class Shop:
    store: Store
    ledger: ConsentLedger
    job: SignalsJob

    def visitor(self, consent: bool = True) -> Visitor:
        browser_id = secrets.token_urlsafe(16)
        if consent:
            self.ledger.record(
                ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: True}, "1", "banner")
            )
        return Visitor(self.ledger.visitor_key("demo", browser_id))

    def save(self, *visitors: Visitor) -> None:
        save(self.store, *visitors)

    def found(self, rule_id: str) -> dict[str, tuple[float, int]]:
        rows = self.store.rows(
            "SELECT visitor_key, value, length(evidence) FROM signals FINAL "
            "WHERE rule_id = {r:String}",
            {"r": rule_id},
        )
        return {str(k): (float(v), int(n)) for k, v, n in rows}


@pytest.fixture
def shop(migrated_store: Store, settings: Settings) -> Shop:
    ledger = ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir))
    return Shop(migrated_store, ledger, SignalsJob(migrated_store, settings, clock=lambda: NOW))


def test_price_uncertainty_needs_three_pricing_visits_within_a_week(shop: Shop) -> None:
    three, two, spread, anonymous = (
        shop.visitor(),
        shop.visitor(),
        shop.visitor(),
        shop.visitor(False),
    )
    for day in (6, 4, 1):
        three.add(days_ago(day), path="/demo/pricing")
        three.add(days_ago(day, 0.5), path="/demo/pricing")  # same visit: counts once
        anonymous.add(days_ago(day), path="/demo/pricing")
    for day in (6, 1):
        two.add(days_ago(day), path="/demo/pricing")
    for day in (20, 12, 2):
        spread.add(days_ago(day), path="/demo/pricing")
    shop.save(three, two, spread, anonymous)
    shop.job.run_once()
    assert shop.found("price_uncertainty") == {three.key: (3.0, 3)}


def test_shipping_cost_shock_is_leaving_right_after_the_shipping_step(shop: Shop) -> None:
    shocked, bought, lingered = shop.visitor(), shop.visitor(), shop.visitor()
    for v in (shocked, bought, lingered):
        v.add(days_ago(1), path="/demo/checkout")
        v.add(days_ago(1, 1), path="/demo/checkout/shipping")
        v.add(days_ago(1, 1), type_="step", name="shipping")
    shocked.add(days_ago(1, 1.5), path="/demo/products/lamp")
    bought.add(days_ago(1, 2), type_="step", name="purchase")
    lingered.add(days_ago(1, 10), path="/demo/products/lamp")
    shop.save(shocked, bought, lingered)
    shop.job.run_once()
    assert set(shop.found("shipping_cost_shock")) == {shocked.key}


def test_frustration_rules_count_within_one_session(shop: Shop) -> None:
    rage, one_rage, dead, abandon, submitted = (shop.visitor() for _ in range(5))
    rage.add(days_ago(1), type_="rage_click", element={"sel": "button.buy"})
    rage.add(days_ago(1, 2), type_="rage_click", element={"sel": "button.buy"})
    one_rage.add(days_ago(1), type_="rage_click")
    one_rage.add(days_ago(2), type_="rage_click")  # another session
    for minute in (0, 1, 2):
        dead.add(days_ago(1, minute), type_="dead_click", element={"sel": "img.hero"})
    abandon.add(days_ago(1), type_="form_start", props={"form": "signup"})
    abandon.add(days_ago(1, 1), type_="form_abandon", props={"form": "signup", "fields": "email"})
    submitted.add(days_ago(1), type_="form_start", props={"form": "signup"})
    submitted.add(days_ago(1, 1), type_="form_submit", props={"form": "signup"})
    shop.save(rage, one_rage, dead, abandon, submitted)
    shop.job.run_once()
    assert set(shop.found("rage_clicks")) == {rage.key}
    assert set(shop.found("dead_clicks")) == {dead.key}
    assert set(shop.found("form_abandonment")) == {abandon.key}


def test_help_before_checkout_contact_twice_and_quick_backs(shop: Shop) -> None:
    unsure, curious, contact, quick = (shop.visitor() for _ in range(4))
    for day in (5, 4, 3):
        unsure.add(days_ago(day), path="/demo/faq")
        curious.add(days_ago(day), path="/demo/faq")
    unsure.add(days_ago(2), path="/demo/checkout")
    contact.add(days_ago(20), path="/demo/contact")
    contact.add(days_ago(3), path="/demo/contact")
    for day in (3, 2):
        quick.add(days_ago(day), path="/demo/products")
        quick.add(days_ago(day, 0.1), path="/demo/products/lamp")
        quick.add(days_ago(day, 0.15), path="/demo/products")
    shop.save(unsure, curious, contact, quick)
    shop.job.run_once()
    assert set(shop.found("pre_purchase_uncertainty")) == {unsure.key}
    assert set(shop.found("repeated_contact")) == {contact.key}
    assert set(shop.found("quick_back")) == {quick.key}


def test_declining_activity_compares_the_last_two_fortnights(shop: Shop) -> None:
    fading, steady = shop.visitor(), shop.visitor()
    for day in (26, 24, 21, 18, 16):
        fading.add(days_ago(day))
        steady.add(days_ago(day))
    fading.add(days_ago(3))
    for day in (12, 9, 6, 3):
        steady.add(days_ago(day))
    shop.save(fading, steady)
    shop.job.run_once()
    assert shop.found("declining_activity") == {fading.key: (0.2, 6)}


def test_rules_that_time_alone_changes_look_at_every_visitor_once_an_hour(
    migrated_store: Store, settings: Settings
) -> None:
    now = [datetime(2026, 11, 24, 23, 30, tzinfo=UTC)]
    ledger = ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir))
    shop = Shop(migrated_store, ledger, SignalsJob(migrated_store, settings, lambda: now[0]))
    stored = datetime.now(UTC) - timedelta(hours=1)  # before the next run's grace
    gone = shop.visitor()  # four visits, 13 to 10 days before NOW (20 November), none since
    for day in (13, 12, 11, 10):
        gone.add(days_ago(day), stored_at=stored)
    shop.save(gone)
    shop.job.run_once()
    assert shop.found("declining_activity") == {}  # on the 24th the last visit is recent
    # From the 25th all four are in the fortnight before the last: a look would find it,
    # but the last look at everyone was 40 minutes ago, and nothing new came from them.
    now[0] += timedelta(minutes=40)
    shop.job.run_once()
    assert shop.found("declining_activity") == {}
    now[0] += timedelta(minutes=21)  # an hour since the last look at everyone
    shop.job.run_once()
    assert shop.found("declining_activity") == {gone.key: (0.0, 4)}


def test_running_twice_or_with_nothing_new_changes_nothing(shop: Shop) -> None:
    visitor = shop.visitor()
    for day in (6, 4, 1):
        visitor.add(days_ago(day), path="/demo/pricing")
    shop.save(visitor)
    shop.job.run_once()
    first = shop.store.rows("SELECT * FROM signals FINAL ORDER BY ALL")
    shop.job.run_once()
    shop.job.run_once(full=True)
    assert shop.store.rows("SELECT * FROM signals FINAL ORDER BY ALL") == first
    assert len(first) == 1


def test_visitors_without_a_current_grant_get_no_signals(shop: Shop) -> None:
    browser_id = secrets.token_urlsafe(16)
    shop.ledger.record(ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: True}, "1", "api"))
    shop.ledger.record(ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: False}, "1", "api"))
    withdrawn = Visitor(shop.ledger.visitor_key("demo", browser_id))
    for day in (6, 4, 1):
        withdrawn.add(days_ago(day), path="/demo/pricing")
    shop.save(withdrawn)
    shop.job.run_once()
    assert shop.found("price_uncertainty") == {}


def test_a_run_after_only_anonymous_events_reads_no_visitors_events(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Traffic without analytics consent moves the watermark but gives the rules no one to
    look at: no rule reads the window's events to find nobody."""
    visitor = shop.visitor()
    stored = datetime.now(UTC) - timedelta(hours=1)  # before the next run's grace
    for day in (6, 4, 1):
        visitor.add(days_ago(day), path="/demo/pricing", stored_at=stored)
    shop.save(visitor)
    shop.job.run_once()
    passer_by = anonymous_visitor()
    passer_by.add(NOW)
    shop.save(passer_by)
    statements: list[str] = []
    command = Store.command

    def counted(store: Store, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        statements.append(sql)
        return command(store, sql, parameters)

    monkeypatch.setattr(Store, "command", counted)
    shop.job.run_once()
    assert not [sql for sql in statements if "INSERT INTO signals" in sql]
    late = shop.visitor()  # and a consented visitor's new events are still looked at
    for day in (3, 2, 1):
        late.add(days_ago(day), path="/demo/pricing")
    shop.save(late)
    shop.job.run_once()
    assert [sql for sql in statements if "INSERT INTO signals" in sql]
    assert set(shop.found("price_uncertainty")) == {visitor.key, late.key}


def test_events_stored_after_the_watermark_are_read_however_long_ago_they_were_taken(
    shop: Shop,
) -> None:
    """A spool replayed after a two-hour outage: a collector took its events long before
    the last run's watermark, and they reach the store after it."""
    earlier = shop.visitor()
    earlier.add(NOW)
    shop.save(earlier)
    shop.job.run_once()
    replayed = shop.visitor()
    for day in (3, 2, 1):  # stored now, after the first run
        replayed.add(days_ago(day), path="/demo/pricing", ingested_at=NOW - timedelta(hours=2))
    shop.save(replayed)
    shop.job.run_once()
    assert set(shop.found("price_uncertainty")) == {replayed.key}
