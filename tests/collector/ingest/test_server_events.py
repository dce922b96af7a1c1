"""POST /api/server-events through the real app, its spool and the real store (both
backends): keys, drop reasons, bounds, free text, replays, and the join to a visitor
only with consent."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from clearsignal.clock import wire_time
from clearsignal.settings import IngestSettings, JobSettings, Settings
from collector.api_keys import ApiKeys
from collector.app import create_app
from tests.conftest import OPERATOR
from tests.support.collector_app import app_services, decision, run_job
from tests.support.server_events import server_event, signed_link, touchpoint_settings
from tests.support.site_requests import HEADERS

PATH = "/api/server-events"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    configured = touchpoint_settings(settings).model_copy(
        update={
            "ingest": IngestSettings(api_key_cache_seconds=0.2),
            "jobs": JobSettings(in_process=False),  # the tests run the jobs they need
        }
    )
    with TestClient(create_app(configured), client=("203.0.113.7", 50000)) as test_client:
        yield test_client


def keys(client: TestClient) -> ApiKeys:
    return ApiKeys(app_services(client).store)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def key(client: TestClient) -> str:
    return (
        keys(client)
        .create("demo", "tests", ["order", "complaint", "sla_breach", "contact"], "tests")
        .token
    )


def post(client: TestClient, token: str, *events: dict[str, Any], site: str = "demo") -> Any:
    return client.post(PATH, json={"site": site, "events": list(events)}, headers=bearer(token))


def stored(client: TestClient, sql: str = "SELECT count() FROM server_events FINAL") -> Any:
    services = app_services(client)
    services.server_writer.flush()
    return services.store.scalar(sql)


def consenting_linked_customer(client: TestClient, customer: str) -> str:
    """A visitor with an analytics grant, linked to ``customer``; its browser id."""
    visitor = secrets.token_urlsafe(16)
    assert client.post("/api/consent", json=decision(visitor), headers=HEADERS).status_code == 201
    body = {"site": "demo", "visitor": visitor, "link": signed_link(customer)}
    assert client.post("/api/visitor/link", json=body, headers=HEADERS).status_code == 201
    return visitor


def dropped(client: TestClient, reason: str, site: str = "demo") -> float:
    text = client.get("/metrics", headers=OPERATOR).text
    prefix = f'clearsignal_server_events_dropped_total{{reason="{reason}",site="{site}"}} '
    found = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0].removeprefix(prefix)) if found else 0.0


def test_a_linked_consenting_customers_events_are_stored_once_under_the_visitor(
    client: TestClient, key: str
) -> None:
    visitor = consenting_linked_customer(client, "cust-1")
    events = [server_event("order", "cust-1"), server_event("complaint", "cust-1")]
    for _ in range(3):  # the backend retries: stored once
        response = post(client, key, *events)
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 2, "dropped": {}}
    visitor_key = app_services(client).ledger.visitor_key("demo", visitor)
    rows = app_services(client).store
    assert stored(client) == 2
    found = rows.rows(
        "SELECT kind, visitor_key, basis, customer_key FROM server_events FINAL ORDER BY kind"
    )
    assert [(kind, v, basis) for kind, v, basis, _ in found] == [
        ("complaint", visitor_key, "consent"),
        ("order", visitor_key, "consent"),
    ]
    assert "cust-1" not in repr(found)  # only the keyed pseudonym


def test_ndjson_batches_are_read_line_by_line(client: TestClient, key: str) -> None:
    consenting_linked_customer(client, "cust-nd")
    lines = [server_event("order", "cust-nd") for _ in range(5)]
    body = b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
    response = client.post(
        f"{PATH}?site=demo",
        content=body,
        headers={**bearer(key), "content-type": "application/x-ndjson"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 5
    assert stored(client) == 5


def test_without_a_consenting_link_an_event_is_dropped_as_no_consent(
    client: TestClient, key: str
) -> None:
    nobody = post(client, key, server_event("complaint", "cust-unlinked"))
    assert nobody.json()["accepted"] == 1  # spooled: consent is decided as it is written
    visitor = consenting_linked_customer(client, "cust-withdrawn")
    withdrawal = decision(visitor, analytics=False)
    assert client.post("/api/consent", json=withdrawal, headers=HEADERS).status_code == 201
    time.sleep(0.3)
    post(client, key, server_event("complaint", "cust-withdrawn"))
    assert stored(client) == 0
    assert dropped(client, "no_consent") == 2


def test_a_kind_with_a_declared_lawful_basis_is_kept_unlinked(client: TestClient, key: str) -> None:
    response = post(client, key, server_event("sla_breach", "cust-sla"))
    assert response.json()["accepted"] == 1
    assert stored(client, "SELECT (visitor_key, basis) FROM server_events FINAL") == (
        "",
        "contract",
    )


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer nonsense", 401),
        ("Bearer cs_sk_000000000000_" + "A" * 43, 401),
        ("Basic dXNlcjpwYXNz", 401),
    ],
)
def test_a_request_without_a_valid_key_is_refused(
    client: TestClient, authorization: str | None, status: int
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    body = {"site": "demo", "events": [server_event("order", "c")]}
    response = client.post(PATH, json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == "invalid_api_key"
    assert response.headers["www-authenticate"] == "Bearer"
    assert dropped(client, "invalid_api_key", "(unknown)") >= 1


def test_a_wrong_secret_for_a_real_key_id_is_refused(client: TestClient, key: str) -> None:
    forged = key[: -len("A" * 43)] + "A" * 43
    assert post(client, forged, server_event("order", "c")).status_code == 401


def test_a_revoked_key_is_refused_within_the_cache_bound(client: TestClient, key: str) -> None:
    assert post(client, key, server_event("order", "c")).status_code == 202
    key_id = key.split("_")[2]
    assert keys(client).revoke("demo", key_id) is not None
    time.sleep(0.3)  # api_key_cache_seconds = 0.2
    response = post(client, key, server_event("order", "c"))
    assert response.status_code == 401
    listed = keys(client).listed("demo")
    assert [k.key_id for k in listed if not k.active] == [key_id]


def test_another_sites_key_is_refused(client: TestClient) -> None:
    others = keys(client).create("other", "", ["order"], "tests").token
    response = post(client, others, server_event("order", "c"), site="demo")
    assert response.status_code == 403
    assert response.json()["error"] == "key_not_for_site"
    assert dropped(client, "key_not_for_site") == 1


def test_a_kind_outside_the_keys_scope_is_dropped_and_named(client: TestClient) -> None:
    helpdesk = keys(client).create("demo", "help desk", ["contact"], "tests").token
    response = post(client, helpdesk, server_event("contact", "c"), server_event("order", "c"))
    assert response.status_code == 202
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["dropped"] == {"out_of_scope": 1}
    assert answer["errors"] == [
        {"index": 1, "error": "out_of_scope", "detail": "this key may not send 'order'"}
    ]


def test_every_per_event_drop_reason_is_answered_and_counted(client: TestClient, key: str) -> None:
    now = datetime.now(UTC)
    twice = server_event("order", "c")
    response = post(
        client,
        key,
        twice,
        twice,
        server_event("order", "c", at=wire_time(now - timedelta(days=181))),
        server_event("order", "c", at=wire_time(now + timedelta(hours=1))),
        server_event("order", "c", currency="euro"),
    )
    assert response.status_code == 202
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["dropped"] == {"duplicate": 1, "too_old": 1, "in_future": 1, "invalid": 1}
    assert [error["index"] for error in answer["errors"]] == [1, 2, 3, 4]
    assert answer["errors"][3]["fields"][0]["field"] == "currency"
    for reason in ("duplicate", "too_old", "in_future", "invalid"):
        assert dropped(client, reason) == 1, reason


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "the parcel came late and the driver was rude"},
        {"category": "jane.doe@example.com"},
        {"customer": "jane.doe@example.com"},
        {"note": "called twice, very upset"},
        {"email": "jane.doe@example.com"},
        {"name": "Jane Doe"},
    ],
)
def test_free_text_names_and_addresses_are_refused_with_a_field_error(
    client: TestClient, key: str, fields: dict[str, str]
) -> None:
    response = post(client, key, server_event("complaint", "c") | fields)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [error["fields"][0]["field"] for error in errors] == [next(iter(fields))]
    assert stored(client) == 0


def test_bounds_a_body_over_a_mebibyte_and_over_a_thousand_events(
    client: TestClient, key: str
) -> None:
    huge = client.post(
        f"{PATH}?site=demo",
        content=b"{}\n" * (600 * 1024),
        headers={**bearer(key), "content-type": "application/x-ndjson"},
    )
    assert huge.status_code == 413
    many = b"\n".join(orjson.dumps(server_event("order", "c")) for _ in range(1001))
    response = client.post(
        f"{PATH}?site=demo",
        content=many,
        headers={**bearer(key), "content-type": "application/x-ndjson"},
    )
    assert response.status_code == 413
    assert stored(client) == 0


def test_unknown_site_and_media_type_and_a_missing_ndjson_site(
    client: TestClient, key: str
) -> None:
    assert post(client, key, server_event("order", "c"), site="nowhere").status_code == 403
    ndjson = {**bearer(key), "content-type": "application/x-ndjson"}
    line = orjson.dumps(server_event("order", "c"))
    assert client.post(PATH, content=line, headers=ndjson).status_code == 400
    wrong = {**bearer(key), "content-type": "application/xml"}
    assert client.post(PATH, content=b"<a/>", headers=wrong).status_code == 415


def test_repeated_bad_keys_from_one_address_are_throttled(client: TestClient) -> None:
    body = {"site": "demo", "events": [server_event("order", "c")]}
    statuses = [
        client.post(PATH, json=body, headers=bearer("cs_sk_0123456789ab_" + "B" * 43)).status_code
        for _ in range(25)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[-1] == 429


def me(client: TestClient, visitor: str) -> Any:
    auth = {"authorization": f"ClearSignal-Visitor {visitor}"}
    return client.get("/api/me?site=demo", headers=auth)


def held(client: TestClient, table: str) -> int:
    services = app_services(client)
    services.flush()
    return int(services.store.scalar(f"SELECT count() FROM {table}"))


def test_the_visitors_export_shows_their_server_events_and_link(
    client: TestClient, key: str
) -> None:
    visitor = consenting_linked_customer(client, "cust-me")
    complaint = server_event("complaint", "cust-me", category="damaged_item")
    post(client, key, complaint, server_event("complaint", "someone-else"))
    app_services(client).server_writer.flush()
    export = me(client, visitor).json()
    assert [(e["event_id"], e["kind"], e["attributes"]) for e in export["server_events"]] == [
        (complaint["id"], "complaint", {"category": "damaged_item"})
    ]
    assert export["server_events"][0]["at"].endswith("Z")
    assert len(export["customer_links"]) == 1
    assert "server_events" not in export["held_elsewhere"]


def test_a_withdrawal_erases_both_sources(client: TestClient, key: str) -> None:
    visitor = consenting_linked_customer(client, "cust-gone")
    browser = {"site": "demo", "visitor": visitor, "events": [{
        "id": secrets.token_hex(8), "type": "pageview", "ts": int(time.time() * 1000),
        "url": "http://127.0.0.1:8000/pricing",
    }]}  # fmt: skip
    assert client.post("/api/events", json=browser, headers=HEADERS).status_code == 202
    post(client, key, server_event("order", "cust-gone"), server_event("contact", "cust-gone"))
    assert (held(client, "events"), held(client, "server_events")) == (1, 2)
    body = {"site": "demo", "visitor": visitor}
    assert client.request("DELETE", "/api/me", json=body, headers=HEADERS).status_code == 202
    run_job(client, "consent.erase")
    for table in ("events", "server_events", "customer_links"):
        assert held(client, table) == 0, table


def test_the_sites_backend_deletes_a_customer_by_reference(client: TestClient, key: str) -> None:
    visitor = consenting_linked_customer(client, "cust-mail")
    post(
        client,
        key,
        server_event("complaint", "cust-mail"),
        server_event("sla_breach", "cust-mail"),  # kept unlinked on the contract
        server_event("sla_breach", "cust-stays"),
    )
    assert held(client, "server_events") == 3
    body = {"site": "demo", "customers": ["cust-mail"]}
    response = client.post(f"{PATH}/deletions", json=body, headers=bearer(key))
    assert response.status_code == 202, response.text
    withdrawals = response.json()["withdrawals"]
    assert len(withdrawals) == 1
    assert held(client, "server_events") == 1  # the unlinked row went at once
    run_job(client, "consent.erase")
    assert held(client, "customer_links") == 0
    customer = app_services(client).ledger.customer_key("demo", "cust-stays")
    assert (
        app_services(client).store.scalar("SELECT any(customer_key) FROM server_events") == customer
    )
    erasure = client.get(f"/api/erasures/{withdrawals[0]}")
    assert erasure.status_code == 200, erasure.text
    assert me(client, visitor).status_code in (200, 404)
    others = keys(client).create("other", "", ["order"], "tests").token
    refused = client.post(f"{PATH}/deletions", json=body, headers=bearer(others))
    assert refused.status_code == 403
    assert refused.json()["error"] == "key_not_for_site"
    nowhere = client.post(f"{PATH}/deletions", json=body | {"site": "nowhere"}, headers=bearer(key))
    assert (nowhere.status_code, nowhere.json()["error"]) == (403, "unknown_site")


def test_a_batch_over_the_sites_rate_is_refused_whole_and_counted(settings: Settings) -> None:
    tight = touchpoint_settings(settings).model_copy(
        update={
            "ingest": IngestSettings(site_server_events_per_second=1, site_server_burst=3),
            "jobs": JobSettings(in_process=False),
        }
    )
    with TestClient(create_app(tight)) as client:
        token = keys(client).create("demo", "", ["order"], "tests").token
        assert (
            post(client, token, *(server_event("order", "c") for _ in range(3))).status_code == 202
        )
        refused = post(client, token, *(server_event("order", "c") for _ in range(2)))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"] == "rate_limited"
        assert dropped(client, "rate_limited") == 2
