"""/api/visitor/signals (GET with the id in a header, POST with it in the body): a
visitor's own signals, only with personalization consent."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, Settings
from collector.app import Services, create_app
from tests.support.collector_app import app_services, decision
from tests.support.site_requests import HEADERS


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    manual = settings.model_copy(update={"jobs": JobSettings(in_process=False)})
    with TestClient(create_app(manual)) as test_client:
        yield test_client


def add_signal(client: TestClient, browser_id: str) -> None:
    services: Services = app_services(client)
    key = services.ledger.visitor_key("demo", browser_id)
    now = datetime.now(UTC).replace(microsecond=0)
    services.store.insert(
        "signals",
        [["demo", key, "shipping_cost_shock", 1, now, now, 40.0, now, now + timedelta(days=9)]],
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "computed_at", "expires_at"],
    )  # fmt: skip


def test_a_visitor_with_personalization_consent_reads_their_signals(client: TestClient) -> None:
    mine, theirs = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    for browser_id in (mine, theirs):
        client.post("/api/consent", json=decision(browser_id), headers=HEADERS)
    add_signal(client, mine)
    body = {"site": "demo", "visitor": mine}
    response = client.post("/api/visitor/signals", json=body, headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    [signal] = response.json()["signals"]
    assert signal["rule_id"] == "shipping_cost_shock"
    assert "shipping" in signal["may_do"].lower()
    other = client.post("/api/visitor/signals", json=body | {"visitor": theirs}, headers=HEADERS)
    assert other.json() == {"signals": []}


def test_without_personalization_consent_nothing_is_shared(client: TestClient) -> None:
    analytics_only = secrets.token_urlsafe(16)
    body = decision(analytics_only) | {"purposes": {"analytics": True, "personalization": False}}
    client.post("/api/consent", json=body, headers=HEADERS)
    add_signal(client, analytics_only)
    request = {"site": "demo", "visitor": analytics_only}
    response = client.post("/api/visitor/signals", json=request, headers=HEADERS)
    assert response.status_code == 403
    assert response.json()["error"] == "no_personalization_consent"
    never = {"site": "demo", "visitor": secrets.token_urlsafe(16)}
    assert client.post("/api/visitor/signals", json=never, headers=HEADERS).status_code == 403


def test_foreign_origins_and_bad_bodies_are_refused(client: TestClient) -> None:
    body = {"site": "demo", "visitor": secrets.token_urlsafe(16)}
    foreign = HEADERS | {"origin": "https://evil.example"}
    assert client.post("/api/visitor/signals", json=body, headers=foreign).status_code == 403
    bad = client.post("/api/visitor/signals", json={"site": "demo"}, headers=HEADERS)
    assert bad.status_code == 400


def test_the_get_form_takes_the_id_in_the_authorization_header(client: TestClient) -> None:
    mine, theirs = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    for browser_id in (mine, theirs):
        client.post("/api/consent", json=decision(browser_id), headers=HEADERS)
    add_signal(client, mine)
    url = "/api/visitor/signals?site=demo"
    response = client.get(url, headers={"authorization": f"ClearSignal-Visitor {mine}"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert [s["rule_id"] for s in response.json()["signals"]] == ["shipping_cost_shock"]
    other = client.get(url, headers={"authorization": f"ClearSignal-Visitor {theirs}"})
    assert other.json() == {"signals": []}
    assert client.get(url).status_code == 401
    wrong_site = client.get(
        "/api/visitor/signals?site=nope", headers={"authorization": f"ClearSignal-Visitor {mine}"}
    )
    assert wrong_site.status_code == 403


def test_times_are_written_as_on_every_api_utc_with_a_z(client: TestClient) -> None:
    mine = secrets.token_urlsafe(16)
    client.post("/api/consent", json=decision(mine), headers=HEADERS)
    add_signal(client, mine)
    visitor = {"authorization": f"ClearSignal-Visitor {mine}"}
    [summary] = client.get("/api/visitor/signals?site=demo", headers=visitor).json()["signals"]
    [explained] = client.get("/api/me?site=demo", headers=visitor).json()["signals"]
    for name in ("window_start", "window_end"):
        assert summary[name].endswith("Z"), summary[name]
        assert summary[name] == explained[name]
    assert {k: v for k, v in explained.items() if k in summary} == summary
