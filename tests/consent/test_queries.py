"""The one SQL form of "current consent", against the ledger's own answer (both backends)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import Settings
from consent.entries import ConsentDecision, Erasure
from consent.ledger import ConsentLedger
from consent.pseudonyms import SiteKeys
from consent.queries import consented_sql, current_consent_sql

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(migrated_store: Store, settings: Settings, clock: Clock) -> ConsentLedger:
    return ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir), clock)


def decide(
    ledger: ConsentLedger, clock: Clock, browser_id: str, analytics: bool, personalization: bool
) -> None:
    choices = {Purpose.ANALYTICS: analytics, Purpose.PERSONALIZATION: personalization}
    ledger.record(ConsentDecision("demo", browser_id, choices, "1", "banner"))
    clock.now += timedelta(minutes=1)


def consented(store: Store, purpose: Purpose, as_of: datetime) -> set[str]:
    sql = consented_sql(purpose, "site = {site:String}", "{as_of:DateTime64(3, 'UTC')}")
    return {str(key) for _, key in store.rows(sql, {"site": "demo", "as_of": as_of})}


def test_the_latest_decision_counts_and_erasure_receipts_do_not(
    migrated_store: Store, ledger: ConsentLedger, clock: Clock
) -> None:
    both, analytics_only, withdrew, regranted = (secrets.token_urlsafe(16) for _ in range(4))
    decide(ledger, clock, both, True, True)
    decide(ledger, clock, analytics_only, True, True)
    decide(ledger, clock, analytics_only, True, False)
    decide(ledger, clock, withdrew, True, True)
    decide(ledger, clock, withdrew, False, False)
    decide(ledger, clock, regranted, False, False)
    decide(ledger, clock, regranted, True, False)
    key = {b: ledger.visitor_key("demo", b) for b in (both, analytics_only, withdrew, regranted)}
    # An erasure receipt after a decision changes no choice.
    ledger.record_erasure(Erasure("demo", key[both], "request", {"events": 0}))

    assert consented(migrated_store, Purpose.ANALYTICS, clock.now) == {
        key[both], key[analytics_only], key[regranted]
    }  # fmt: skip
    assert consented(migrated_store, Purpose.PERSONALIZATION, clock.now) == {key[both]}


def test_a_decision_grants_nothing_once_it_has_expired(
    migrated_store: Store, ledger: ConsentLedger, clock: Clock
) -> None:
    browser_id = secrets.token_urlsafe(16)
    decide(ledger, clock, browser_id, True, True)
    key = ledger.visitor_key("demo", browser_id)
    state = ledger.current("demo", key)
    assert state is not None
    assert consented(migrated_store, Purpose.ANALYTICS, state.expires_at - timedelta(seconds=1))
    assert not consented(migrated_store, Purpose.ANALYTICS, state.expires_at)
    assert not state.in_force(state.expires_at)


def test_the_ledger_reads_the_same_current_state_as_the_sql(
    migrated_store: Store, settings: Settings, ledger: ConsentLedger, clock: Clock
) -> None:
    browser_id = secrets.token_urlsafe(16)
    decide(ledger, clock, browser_id, True, True)
    decide(ledger, clock, browser_id, True, False)
    key = ledger.visitor_key("demo", browser_id)
    # A fresh ledger has nothing cached: it reads the store.
    fresh = ConsentLedger(migrated_store, settings, SiteKeys(settings.site_key_dir), clock)
    state = fresh.current("demo", key)
    [row] = migrated_store.rows(
        current_consent_sql("site = {site:String} AND visitor_key = {key:String}"),
        {"site": "demo", "key": key},
    )
    assert state is not None
    assert (state.analytics, state.personalization, state.receipt_id) == (True, False, row[6])
    assert (row[2], row[3]) == (True, False)


def test_measurement_needs_no_decision() -> None:
    with pytest.raises(ValueError, match="needs no consent"):
        consented_sql(Purpose.MEASUREMENT, "1", "now()")
