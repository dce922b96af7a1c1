"""The simulator: seeded behaviour, an exact truth, the store path and the HTTP path."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from aggregator.store.client import Store
from clearsignal.settings import JobSettings, Settings
from collector.app import create_app
from collector.ingest.wire import EventBatch
from consent.customer_links import customer_key
from consent.customer_references import CustomerReferences
from consent.pseudonyms import SiteKeys, visitor_key
from simulator.sessions import ANONYMOUS_TYPES
from simulator.simulation import (
    RULE_IDS,
    ClientTransport,
    Role,
    SimulatedVisitor,
    SimulationError,
    read_truth,
    reference_rules,
    simulate,
    simulate_http,
    simulated_visitors,
)
from simulator.truth import PageKinds
from simulator.visitors import request_batches
from tests.simulator.histories import END, SITE, Ev

DAY_MS = 86_400_000


def generated(
    count: int, days: int = 30, seed: int = 1, end: datetime = END
) -> list[SimulatedVisitor]:
    return list(simulated_visitors(SITE, count, days, seed, end))


# -- generation: pure and seeded ---------------------------------------------------------


def test_the_same_seed_gives_the_same_visitors_events_and_truth() -> None:
    first, again, other = generated(120), generated(120), generated(120, seed=2)
    assert first == again
    assert [v.events for v in first] != [v.events for v in other]
    # A visitor does not depend on how many others are simulated.
    assert generated(30) == first[:30]


def browser_rules(truth: Mapping[str, Role], role: Role) -> set[str]:
    """The browser's rules of a visitor's truth in ``role`` (the others read its customer
    account: tests/simulator/test_systems.py)."""
    return {rule for rule, found in truth.items() if found == role and rule in RULE_IDS}


def test_consent_share_and_planted_shares_are_as_documented() -> None:
    visitors = generated(1500)
    consented = [v for v in visitors if v.browser_id is not None]
    assert 0.65 < len(consented) / len(visitors) < 0.75
    planted = Counter(r for v in consented for r, role in v.truth.items() if role == Role.PLANTED)
    lookalikes = Counter(
        r for v in consented for r, role in v.truth.items() if role == Role.LOOKALIKE
    )
    for rule in RULE_IDS:
        assert 0.025 < planted[rule] / len(consented) < 0.08, (rule, planted[rule])
        assert 0.025 < lookalikes[rule] / len(consented) < 0.08, (rule, lookalikes[rule])


def test_planted_visitors_satisfy_their_rules_and_look_alikes_do_not() -> None:
    visitors = generated(1500)
    for visitor in visitors:
        found_rules = reference_rules(visitor.events, SITE, END)
        planted = browser_rules(visitor.truth, Role.PLANTED)
        lookalikes = browser_rules(visitor.truth, Role.LOOKALIKE)
        if visitor.browser_id is None:
            assert visitor.truth == {}
            continue
        # high_effort may be planted by the site's systems instead (a support journey).
        systems = visitor.customer.truth if visitor.customer else {}
        by_systems = {r for r, role in systems.items() if role == Role.PLANTED}
        assert found_rules <= planted
        assert planted - found_rules <= by_systems
        assert not lookalikes & found_rules
        assert visitor.settled, visitor.index
    assert sum(v.attempts > 1 for v in visitors) < len(visitors) * 0.05


def test_declining_activity_is_planted_only_over_four_weeks_or_more() -> None:
    short = generated(600, days=20)
    assert not any("declining_activity" in v.planned for v in short)
    assert any(v.truth.get("declining_activity") == Role.PLANTED for v in generated(600))


def test_anonymous_visitors_send_only_what_the_snippet_sends_without_consent() -> None:
    anonymous = [v for v in generated(200) if v.browser_id is None]
    assert anonymous
    assert {e.type for v in anonymous for e in v.events} <= ANONYMOUS_TYPES
    assert all(v.decision_ms is None and not v.personalization for v in anonymous)


def test_events_are_in_time_order_within_the_period_and_valid_on_the_wire() -> None:
    start = END - timedelta(days=30)
    for visitor in generated(150):
        stamps = [e.ts for e in visitor.events]
        assert stamps == sorted(stamps)
        assert start.timestamp() * 1000 <= stamps[0]
        assert stamps[-1] < END.timestamp() * 1000
        if visitor.decision_ms is not None:
            assert visitor.decision_ms < stamps[0]
        for batch in request_batches(visitor.events):
            wire = [e.wire(SITE.allowed_origins[0]) for e in batch]
            EventBatch.model_validate(
                {"site": "demo", "visitor": visitor.browser_id, "events": wire}
            )


def test_no_session_spans_an_instant_four_hours_apart_from_the_end() -> None:
    """So a signals job stepped through the period at those instants never cuts a session."""
    for visitor in generated(300):
        previous = None
        for event in visitor.events:
            if previous is not None and event.ts - previous.ts <= 30 * 60_000:
                blocks = [
                    (END.timestamp() * 1000 - e.ts) // (4 * 3_600_000) for e in (previous, event)
                ]
                assert blocks[0] == blocks[1], visitor.index
            previous = event


def test_page_paths_match_the_default_page_patterns() -> None:
    kinds = PageKinds(SITE.pages, SITE.funnel)
    paths = {e.path for v in generated(300) for e in v.events}
    assert {k for p in paths for k in kinds.of(p)} == set(PageKinds.KINDS)
    assert all(p.startswith("/demo/") for p in paths)


# -- the store path ----------------------------------------------------------------------


def stored_events(store: Store) -> dict[str, list[Ev]]:
    """Each analytics visitor's stored events, as the reference reads them."""
    events: dict[str, list[Ev]] = {}
    for key, ms, type_, path, name in store.rows(
        "SELECT visitor_key, toUnixTimestamp64Milli(ts), type, path, name FROM events FINAL "
        "WHERE identity = 'analytics' ORDER BY visitor_key, ts, event_id"
    ):
        events.setdefault(key, []).append(Ev(int(ms), type_, path, name or None))
    return events


def test_simulates_through_the_ingest_pipeline_into_the_store(
    migrated_store: Store, settings: Settings
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    summary = simulate(migrated_store, settings, 60, 30, seed=3, end=end)
    visitors = generated(60, seed=3, end=end)
    site_key = SiteKeys(settings.site_key_dir).key("demo")
    keys = {visitor_key(site_key, v.browser_id): v for v in visitors if v.browser_id}

    assert summary.events == sum(len(v.events) for v in visitors)
    assert migrated_store.scalar("SELECT count() FROM events FINAL") == summary.events
    assert summary.consented == len(keys)
    assert summary.end == end

    # Consent: one grant per consented visitor, recorded before the visitor's first event.
    granted = migrated_store.rows(
        "SELECT visitor_key, recorded_at, analytics FROM consent_records WHERE kind = 'consent'"
    )
    assert {k for k, _, _ in granted} == set(keys)
    for key, recorded_at, analytics in granted:
        assert analytics
        assert round(recorded_at.timestamp() * 1000) == keys[key].decision_ms
        assert keys[key].decision_ms < keys[key].events[0].ts

    # Only pseudonymised keys: no browser id anywhere in the stored events.
    stored = stored_events(migrated_store)
    assert set(stored) == set(keys)
    dump = str(migrated_store.rows("SELECT * FROM events"))
    assert not [v.browser_id for v in visitors if v.browser_id and v.browser_id in dump]
    measurement = migrated_store.scalar(
        "SELECT uniqExact(visitor_key) FROM events WHERE identity = 'measurement'"
    )
    assert measurement >= len(visitors) - len(keys)

    # The truth, and the stored events really are what it says.
    truth = read_truth(migrated_store, "demo")
    for key, visitor in keys.items():
        for role in Role:
            recorded = {rule for rule in truth if key in truth[rule][role]}
            assert recorded == {r for r, v_role in visitor.truth.items() if v_role == role}
        assert reference_rules(stored[key], SITE, end) == browser_rules(visitor.truth, Role.PLANTED)
    assert migrated_store.scalar("SELECT uniqExact(simulated_at) FROM simulation_truth") == 1

    # Customers: the references of those who allow personalization are kept sealed.
    linked = {k: v for k, v in keys.items() if v.customer is not None}
    personal = {k: v for k, v in linked.items() if v.personalization}
    assert personal
    assert len(personal) < len(linked)
    references = CustomerReferences(migrated_store, site_key)
    expected = {
        customer_key(site_key, v.customer.reference): v.customer.reference
        for v in personal.values()
        if v.customer is not None
    }
    assert references.opened("demo", expected) == expected
    assert migrated_store.scalar("SELECT count() FROM customer_references") == len(personal)


def test_inserts_in_batches_and_keeps_each_event_once(
    migrated_store: Store, settings: Settings
) -> None:
    summary = simulate(migrated_store, settings, 25, 3, seed=9, batch_rows=200)
    assert summary.events == migrated_store.scalar("SELECT count() FROM events")
    assert summary.events == migrated_store.scalar("SELECT uniqExact(event_id) FROM events")


def test_refuses_an_unknown_site(migrated_store: Store, settings: Settings) -> None:
    with pytest.raises(SimulationError, match="no site 'shop'"):
        simulate(migrated_store, settings, 5, 1, site="shop")


# -- the HTTP path -----------------------------------------------------------------------


def test_posts_consent_and_events_to_the_real_app(
    settings: Settings, migrated_store: Store
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    manual = settings.model_copy(update={"jobs": JobSettings(in_process=False)})
    with TestClient(create_app(manual), client=("203.0.113.7", 50000)) as test_client:
        summary = simulate_http(
            ClientTransport(test_client), settings, 20, 2, seed=4, truth_store=migrated_store,
            end=end,
        )  # fmt: skip
    # Leaving the client stopped the app, which wrote its spool to the store.
    visitors = generated(20, days=2, seed=4, end=end)
    assert summary.events == sum(len(v.events) for v in visitors)
    assert migrated_store.scalar("SELECT count() FROM events FINAL") == summary.events
    stored = stored_events(migrated_store)
    truth = read_truth(migrated_store, "demo")
    site_key = SiteKeys(settings.site_key_dir).key("demo")
    for visitor in visitors:
        if visitor.browser_id is None:
            continue
        key = visitor_key(site_key, visitor.browser_id)
        planted = {r for r in RULE_IDS if key in truth[r][Role.PLANTED]}
        assert planted == reference_rules(stored[key], SITE, end)
        assert len(stored[key]) == len(visitor.events)
    assert set(stored) == {
        visitor_key(site_key, v.browser_id) for v in visitors if v.browser_id is not None
    }


def test_the_http_path_refuses_more_days_than_the_collector_keeps() -> None:
    with pytest.raises(SimulationError, match="at most 2 days"):
        simulate_http(ClientTransport(None), Settings(), 5, 3)
