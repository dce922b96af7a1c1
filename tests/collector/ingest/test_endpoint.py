"""POST /api/events through the real app, the real spool and the real store (both backends)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from clearsignal.purposes import Purpose
from clearsignal.settings import IngestSettings, Settings
from collector.app import create_app
from collector.client_address import address_key
from collector.ingest.pipeline import SCRUB_BUDGET
from collector.rate_limit import RateLimiter
from consent.entries import ConsentDecision
from tests.conftest import OPERATOR
from tests.support.collector_app import app_services, from_address
from tests.support.site_requests import CHROME, HEADERS


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": secrets.token_hex(8),
        "type": "pageview",
        "ts": int(time.time() * 1000),
        "url": "http://127.0.0.1:8000/pricing?utm_source=news&session=abc",
        "ref": None,
    }
    base.update(fields)
    return base


def batch(
    *events: dict[str, Any], visitor: str | None = None, site: str = "demo"
) -> dict[str, Any]:
    return {"site": site, "visitor": visitor, "events": list(events) or [event()]}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=("203.0.113.7", 50000)) as test_client:
        yield test_client


def stored(client: TestClient, sql: str = "SELECT count() FROM events FINAL") -> Any:
    found = app_services(client)
    found.writer.flush()
    return found.store.scalar(sql)


def test_accepts_a_batch_and_stores_it_once(client: TestClient) -> None:
    response = client.post("/api/events", json=batch(event(), event(type="click")), headers=HEADERS)
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "dropped": {}}
    assert stored(client) == 2


def test_a_retried_batch_is_stored_exactly_once(client: TestClient) -> None:
    body = batch(event(), event())
    for _ in range(3):
        assert client.post("/api/events", json=body, headers=HEADERS).status_code == 202
    assert stored(client) == 2


def test_without_consent_a_browser_id_is_downgraded_to_anonymous_measurement(
    client: TestClient,
) -> None:
    browser_id = secrets.token_urlsafe(16)
    response = client.post("/api/events", json=batch(visitor=browser_id), headers=HEADERS)
    assert response.status_code == 202
    assert stored(client, "SELECT identity FROM events FINAL") == "measurement"


def test_with_an_analytics_grant_events_are_stored_under_the_visitor_key(
    client: TestClient,
) -> None:
    browser_id = secrets.token_urlsafe(16)
    ledger = app_services(client).ledger
    ledger.record(
        ConsentDecision(
            site="demo",
            browser_id=browser_id,
            choices={Purpose.ANALYTICS: True, Purpose.PERSONALIZATION: False},
            notice_version="1",
            method="banner",
        )
    )
    assert (
        client.post("/api/events", json=batch(visitor=browser_id), headers=HEADERS).status_code
        == 202
    )
    key = ledger.visitor_key("demo", browser_id)
    assert stored(client, "SELECT any((identity, visitor_key)) FROM events FINAL") == (
        "analytics",
        key,
    )


def test_with_gpc_and_no_grant_nothing_is_stored(client: TestClient) -> None:
    response = client.post("/api/events", json=batch(event()), headers={**HEADERS, "sec-gpc": "1"})
    assert response.json() == {"accepted": 0, "dropped": {"no_consent": 1}}
    assert stored(client) == 0


def test_drops_bots(client: TestClient) -> None:
    headers = {**HEADERS, "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
    response = client.post("/api/events", json=batch(event(), event()), headers=headers)
    assert response.json() == {"accepted": 0, "dropped": {"bot": 2}}


def test_refuses_an_unknown_site_with_403(client: TestClient) -> None:
    response = client.post("/api/events", json=batch(site="nosuchsite"), headers=HEADERS)
    assert response.status_code == 403
    assert response.json()["error"] == "unknown_site"


def test_refuses_an_origin_not_allowed_for_the_site_with_403(client: TestClient) -> None:
    response = client.post(
        "/api/events", json=batch(), headers={**HEADERS, "origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"


def test_drops_events_too_old_or_in_the_future_and_duplicates(client: TestClient) -> None:
    now = int(time.time() * 1000)
    twin = event()
    response = client.post(
        "/api/events",
        json=batch(event(ts=now - 4 * 86_400_000), event(ts=now + 3_600_000), twin, twin),
        headers=HEADERS,
    )
    assert response.json() == {
        "accepted": 1,
        "dropped": {"too_old": 1, "in_future": 1, "duplicate": 1},
    }


def test_malformed_events_are_dropped_and_valid_ones_in_the_batch_kept(client: TestClient) -> None:
    response = client.post(
        "/api/events", json=batch(event(), event(type="teleport"), event(url="")), headers=HEADERS
    )
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1
    assert body["dropped"] == {"invalid": 2}
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert body["errors"][0]["fields"][0]["field"] == "events.1.type"
    assert stored(client) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"site": "demo", "events": []}',
        b'{"site": "demo", "events": [{"id": "zz"}]}',
        b'{"site": "demo", "events": [], "extra": 1}',
    ],
)
def test_answers_400_with_field_errors_when_nothing_is_usable(
    client: TestClient, body: bytes
) -> None:
    response = client.post("/api/events", content=body, headers=HEADERS)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert response.json()["fields"]


def test_answers_413_over_the_body_limit(client: TestClient) -> None:
    response = client.post("/api/events", content=b"x" * (64 * 1024 + 1), headers=HEADERS)
    assert response.status_code == 413


def test_rate_limit_drops_what_exceeds_the_bucket_then_answers_429(client: TestClient) -> None:
    # A stopped clock: the bucket does not refill while the test runs.
    app_services(client).pipeline.limits.client = RateLimiter(
        rate=1.0, burst=150, clock=lambda: 1000.0
    )
    hundred = [batch(*[event() for _ in range(100)]) for _ in range(3)]
    first, second, third = (client.post("/api/events", json=b, headers=HEADERS) for b in hundred)
    assert (first.status_code, first.json()) == (202, {"accepted": 100, "dropped": {}})
    assert (second.status_code, second.json()) == (
        202,
        {"accepted": 50, "dropped": {"rate_limited": 50}},
    )
    assert third.status_code == 429
    assert third.headers["retry-after"] == "1"
    assert stored(client) == 150


def test_query_strings_are_reduced_and_secrets_removed(client: TestClient) -> None:
    response = client.post(
        "/api/events",
        json=batch(
            event(
                type="custom",
                name="signup",
                url="http://127.0.0.1:8000/u/jane.doe@mail.example/?utm_source=x&token=t0k3n",
                props={"note": "call +44 20 7946 0958", "plan": "pro", "seats": 3},
            )
        ),
        headers=HEADERS,
    )
    assert response.status_code == 202
    url, props = stored(client, "SELECT any((url, props)) FROM events FINAL")
    assert url == "http://127.0.0.1:8000/u/[redacted]/?utm_source=x"
    assert props == {"note": "call [redacted]", "plan": "pro", "seats": "3"}


def test_form_events_keep_field_names_and_never_values(client: TestClient) -> None:
    response = client.post(
        "/api/events",
        json=batch(
            event(
                type="form_abandon",
                props={"form": "checkout", "fields": "email,zip", "value": "secret"},
            )
        ),
        headers=HEADERS,
    )
    assert response.status_code == 202
    assert stored(client, "SELECT any(props) FROM events FINAL") == {
        "form": "checkout",
        "fields": "email,zip",
    }


def test_no_ip_user_agent_or_browser_id_reaches_any_table(client: TestClient) -> None:
    browser_id = secrets.token_urlsafe(16)
    app_services(client).ledger.record(
        ConsentDecision("demo", browser_id, {Purpose.ANALYTICS: True}, "1", "banner")
    )
    mixed = [event(), event(type="click", el={"tag": "button", "label": "Buy"})]
    client.post("/api/events", json=batch(*mixed, visitor=browser_id), headers=HEADERS)
    client.post("/api/events", json=batch(event()), headers=HEADERS)
    client.post(
        "/api/events", json=batch(event(), visitor=secrets.token_urlsafe(16)), headers=HEADERS
    )
    store = app_services(client).store
    assert stored(client) == 4
    tables = [
        name
        for (name,) in store.rows(
            "SELECT name FROM system.tables WHERE database = currentDatabase()"
        )
    ]
    for needle in ("203.0.113.7", CHROME, "Chrome/131", browser_id):
        for table in tables:
            hits = store.scalar(
                f"SELECT count() FROM {table} WHERE position(toString(tuple(*)), {{n:String}}) > 0",
                {"n": needle},
            )
            assert hits == 0, f"{needle!r} found in {table}"


def test_metrics_count_drops_per_reason_and_site(client: TestClient) -> None:
    client.post("/api/events", json=batch(), headers={**HEADERS, "user-agent": "curl/8.0"})
    text = client.get("/metrics", headers=OPERATOR).text
    assert 'clearsignal_events_dropped_total{reason="bot",site="demo"} 1.0' in text
    assert "clearsignal_ingest_request_seconds_bucket" in text


def test_openapi_document_describes_the_event_batch(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    schema = document["components"]["schemas"]["EventBatch"]
    assert schema["properties"]["events"]["maxItems"] == 100


def test_a_new_user_agent_on_every_request_buys_no_new_budget(settings: Settings) -> None:
    # Per visitor 200 events at once; per network address 300, whatever the user agent.
    limits = IngestSettings(client_burst=200, address_burst=300, address_events_per_second=1)
    tight = settings.model_copy(update={"ingest": limits})
    with TestClient(create_app(tight), client=("203.0.113.7", 50000)) as client:
        answers = []
        for n in range(60):
            chrome = CHROME.replace("131.0.0.0", f"131.0.{n}.0")
            events = [event() for _ in range(10)]
            answers.append(
                client.post(
                    "/api/events", json=batch(*events), headers={**HEADERS, "user-agent": chrome}
                )
            )
        accepted = sum(a.json().get("accepted", 0) for a in answers if a.status_code == 202)
        assert 300 <= accepted <= 310  # the address's burst, and what it refilled meanwhile
        assert answers[-1].status_code == 429
        # Another address has its own budget.
        other = from_address(client, "198.51.100.20")
        assert other.post("/api/events", json=batch(event()), headers=HEADERS).status_code == 202
    # ... and an IPv6 client is one address per /64, whatever its last 64 bits.
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:203.0.113.7") == address_key("203.0.113.7")
    assert "203.0.113.7" not in address_key("203.0.113.7")


def test_text_past_the_requests_scrub_budget_is_dropped_as_too_large(client: TestClient) -> None:
    long_url = ("http://127.0.0.1:8000/" + "a-" * 990)[:1990]  # near the wire's bound
    events = [event(url=long_url) for _ in range(26)]  # 51,740 characters: over 48 KiB
    answer = client.post("/api/events", json=batch(*events), headers=HEADERS)
    assert answer.status_code == 202
    body = answer.json()
    kept = SCRUB_BUDGET // len(long_url)
    assert body == {"accepted": kept, "dropped": {"too_large": 26 - kept}}
    assert stored(client) == kept
