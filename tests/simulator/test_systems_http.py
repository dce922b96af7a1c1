"""The simulator plays the site's systems against the real app: links through
``POST /api/visitor/link`` and server events through ``POST /api/server-events``, and the
rules over them find what its truth planted."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from aggregator.jobs.signals import SignalsJob
from aggregator.store.client import Store
from clearsignal.settings import JobSettings, LimitSettings, ServerKind, Settings
from collector.api_keys import ApiKeys
from collector.app import create_app
from simulator.simulation import (
    ClientTransport,
    Role,
    SimulationError,
    read_truth,
    simulate_http,
    simulated_visitors,
)
from simulator.systems_truth import TOUCHPOINT_RULE_IDS
from tests.support.server_events import touchpoint_settings

VISITORS = 60


def _key(store: Store, site: str = "demo") -> str:
    kinds = [kind.value for kind in ServerKind]
    return ApiKeys(store).create(site, "simulate", kinds, created_by="test").token


def test_plays_the_sites_systems_through_the_link_and_server_event_endpoints(
    settings: Settings, migrated_store: Store
) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    # One address records every visitor's consent and link here, as a shop's visitors would
    # from theirs (both are decisions: docs/api.md).
    limits = LimitSettings(consent_address_burst=2 * VISITORS)
    linked = touchpoint_settings(settings).model_copy(
        update={"jobs": JobSettings(in_process=False), "limits": limits}
    )
    with TestClient(create_app(linked), client=("203.0.113.7", 50000)) as test_client:
        summary = simulate_http(
            ClientTransport(test_client), linked, VISITORS, 2, seed=4, api_key=_key(migrated_store),
            truth_store=migrated_store, end=end,
        )  # fmt: skip
    # Leaving the client stopped the app, which wrote its spools to the store.
    site = linked.sites[0]
    customers = [v.customer for v in simulated_visitors(site, VISITORS, 2, 4, end) if v.customer]
    sent = sum(len(c.events) for c in customers)
    assert summary.server_events == sent > 0
    store = migrated_store
    assert store.scalar("SELECT count() FROM server_events FINAL") == sent
    assert store.scalar("SELECT count() FROM customer_links FINAL") == len(customers)
    # Every event reached its customer's visitor; none is stored without one.
    assert store.scalar("SELECT countIf(visitor_key = '') FROM server_events FINAL") == 0
    per_visitor = store.scalar("SELECT uniqExact(visitor_key) FROM server_events FINAL")
    assert per_visitor == sum(1 for c in customers if c.events)

    SignalsJob(store, linked, clock=lambda: end).run_once(full=True)
    found: dict[str, set[str]] = defaultdict(set)
    for rule_id, key in store.rows("SELECT DISTINCT rule_id, visitor_key FROM signals FINAL"):
        found[str(rule_id)].add(str(key))
    truth = read_truth(store, "demo")
    planted = 0
    for rule in TOUCHPOINT_RULE_IDS:
        if rule == "high_effort":  # also checkouts, and judged against medians of 60 visitors
            continue
        assert found[rule] == truth[rule][Role.PLANTED], rule
        assert not found[rule] & truth[rule][Role.LOOKALIKE], rule
        planted += len(truth[rule][Role.PLANTED])
    assert planted > 0


def test_the_sites_systems_need_a_link_secret(settings: Settings) -> None:
    with pytest.raises(SimulationError, match=r"no touchpoints\.link_secret"):
        simulate_http(ClientTransport(None), settings, 5, 1, api_key="cs_sk_x")


def test_a_key_of_another_site_is_a_clear_error(settings: Settings, migrated_store: Store) -> None:
    linked = touchpoint_settings(settings).model_copy(
        update={"jobs": JobSettings(in_process=False)}
    )
    with TestClient(create_app(linked)) as test_client:
        transport = ClientTransport(test_client)
        other = _key(migrated_store, "other")
        with pytest.raises(SimulationError, match="/api/server-events answered 403"):
            simulate_http(transport, linked, 10, 1, seed=4, api_key=other)
