"""POST /api/visitor/link: a browser is linked to a customer only by a token the site
signed, only with an analytics grant, and only as pseudonyms (both backends)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, Settings
from collector.app import create_app
from consent.customer_references import CustomerReferences
from tests.conftest import OPERATOR
from tests.support.collector_app import app_services, decision
from tests.support.server_events import signed_link, touchpoint_settings
from tests.support.site_requests import HEADERS

PATH = "/api/visitor/link"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    manual = touchpoint_settings(settings).model_copy(
        update={"jobs": JobSettings(in_process=False)}
    )
    with TestClient(create_app(manual)) as test_client:
        yield test_client


def granted(client: TestClient) -> str:
    visitor = secrets.token_urlsafe(16)
    assert client.post("/api/consent", json=decision(visitor), headers=HEADERS).status_code == 201
    return visitor


def link(client: TestClient, visitor: str, token: str, site: str = "demo") -> tuple[int, str]:
    body = {"site": site, "visitor": visitor, "link": token}
    response = client.post(PATH, json=body, headers=HEADERS)
    return response.status_code, response.json().get("error", "")


def links(client: TestClient) -> list[tuple[str, str]]:
    rows = app_services(client).store.rows(
        "SELECT visitor_key, customer_key FROM customer_links FINAL ORDER BY linked_at"
    )
    return [(str(v), str(c)) for v, c in rows]


def refused(client: TestClient, reason: str, site: str = "demo") -> float:
    line = f'clearsignal_customer_links_refused_total{{reason="{reason}",site="{site}"}} '
    text = client.get("/metrics", headers=OPERATOR).text
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else 0.0


def test_a_signed_link_with_a_grant_stores_two_pseudonyms(client: TestClient) -> None:
    visitor = granted(client)
    assert link(client, visitor, signed_link("cust-7")) == (201, "")
    ledger = app_services(client).ledger
    assert links(client) == [
        (ledger.visitor_key("demo", visitor), ledger.customer_key("demo", "cust-7"))
    ]
    stored = app_services(client).store.scalar(
        "SELECT groupArray(customer_key) FROM customer_links"
    )
    assert "cust-7" not in repr(stored)


def test_the_reference_is_kept_sealed_only_with_a_personalization_grant(
    client: TestClient,
) -> None:
    both = granted(client)  # analytics and personalization
    analytics_only = secrets.token_urlsafe(16)
    body = decision(analytics_only) | {"purposes": {"analytics": True, "personalization": False}}
    assert client.post("/api/consent", json=body, headers=HEADERS).status_code == 201
    assert link(client, both, signed_link("cust-21")) == (201, "")
    assert link(client, analytics_only, signed_link("cust-22")) == (201, "")

    services = app_services(client)
    ledger = services.ledger
    sealed = services.store.rows("SELECT visitor_key, sealed FROM customer_references")
    assert [visitor for visitor, _ in sealed] == [ledger.visitor_key("demo", both)]
    assert "cust-21" not in repr(sealed)
    references = CustomerReferences(services.store, ledger.site_key("demo"))
    customers = [ledger.customer_key("demo", ref) for ref in ("cust-21", "cust-22")]
    assert references.opened("demo", customers) == {customers[0]: "cust-21"}


def test_without_an_analytics_grant_nothing_is_linked(client: TestClient) -> None:
    stranger = secrets.token_urlsafe(16)
    assert link(client, stranger, signed_link("cust-8")) == (403, "no_analytics_consent")
    assert links(client) == []


def test_linking_to_someone_elses_reference_is_refused_and_counted(client: TestClient) -> None:
    attacker = granted(client)
    own = signed_link("attacker-1")
    version, expires, _, mac = own.split(".")
    victim_b64 = signed_link("victim-9").split(".")[2]
    attempts = {
        "link_forged": [
            f"{version}.{expires}.{victim_b64}.{mac}",  # the victim's reference, own MAC
            signed_link("victim-9", secret="a-secret-the-attacker-guessed-0123456789"),
            signed_link("victim-9", site="other"),  # signed for another site
        ],
        "link_expired": [signed_link("attacker-1", ttl=-5)],
        "link_expiry_too_far": [signed_link("attacker-1", ttl=3 * 86_400)],
        "link_malformed": ["victim-9", "v1.x.y.z", "v2.1.dmljdGltLTk.AAAA"],
    }
    for reason, tokens in attempts.items():
        for token in tokens:
            assert link(client, attacker, token) == (403, reason), token
        assert refused(client, reason) == len(tokens)
    assert links(client) == []
    assert link(client, attacker, own) == (201, "")  # the attacker's own link still works


def test_a_site_without_a_link_secret_links_nobody(client: TestClient) -> None:
    visitor = secrets.token_urlsafe(16)
    body = decision(visitor, site="other")
    assert client.post("/api/consent", json=body, headers=HEADERS).status_code == 201
    token = signed_link("cust-1", site="other")
    assert link(client, visitor, token, site="other") == (403, "link_not_configured")
    assert refused(client, "link_not_configured", "other") == 1
