"""The consent and transparency endpoints through the real app and store (both backends)."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, Settings
from collector.app import create_app
from consent.log_keys import LogVerifier
from consent.merkle import verify_consistency, verify_inclusion
from consent.receipts import verify_receipt
from tests.support.collector_app import app_services, decision, run_job
from tests.support.site_requests import HEADERS, ORIGIN


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app with its jobs run by hand, so each test decides when the log moves."""
    manual = settings.model_copy(update={"jobs": JobSettings(in_process=False)})
    with TestClient(create_app(manual), client=("203.0.113.7", 50000)) as test_client:
        yield test_client


def verifier(client: TestClient) -> LogVerifier:
    response = client.get("/api/transparency/public-key")
    assert response.status_code == 200
    return LogVerifier(response.text.strip())


def test_a_decision_answers_201_with_a_pending_receipt(client: TestClient) -> None:
    response = client.post("/api/consent", json=decision(), headers=HEADERS)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["kind"] == "consent"
    assert receipt["log"]["status"] == "pending"
    assert response.headers["location"] == f"/api/consent/receipts/{receipt['receipt_id']}"
    assert {p["id"]: p["choice"] for p in receipt["purposes"]}["analytics"] == "granted"
    assert len(receipt["subject"]) == 32


def test_the_receipt_becomes_proven_and_verifies_offline(client: TestClient) -> None:
    receipts = [
        client.post("/api/consent", json=decision(), headers=HEADERS).json() for _ in range(3)
    ]
    run_job(client, "consent.sequence")
    key = verifier(client)
    for index, pending in enumerate(receipts):
        response = client.get(f"/api/consent/receipts/{pending['receipt_id']}")
        assert response.status_code == 200
        proven = response.json()
        assert proven["log"]["status"] == "included"
        assert verify_receipt(proven, key).log_index == index


def test_a_decision_wakes_the_in_process_sequencer(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        receipt = client.post("/api/consent", json=decision(), headers=HEADERS).json()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            proven = client.get(f"/api/consent/receipts/{receipt['receipt_id']}").json()
            if proven["log"]["status"] == "included":
                break
            time.sleep(0.1)
        assert proven["log"]["status"] == "included"
        assert verify_receipt(proven, verifier(client)).receipt_id == receipt["receipt_id"]


def test_the_gate_honours_a_grant_at_once(client: TestClient) -> None:
    browser_id = secrets.token_urlsafe(16)
    assert (
        client.post("/api/consent", json=decision(browser_id), headers=HEADERS).status_code == 201
    )
    key = app_services(client).ledger.visitor_key("demo", browser_id)
    state = app_services(client).ledger.current("demo", key)
    assert state is not None
    assert state.analytics


def test_an_outdated_notice_version_is_refused_with_the_current_one(client: TestClient) -> None:
    response = client.post("/api/consent", json=decision(notice_version="0"), headers=HEADERS)
    assert response.status_code == 409
    assert response.json()["current_notice_version"] == "1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (decision(visitor="short"), "visitor"),
        (decision(method="telepathy"), "method"),
        (decision(purposes={"analytics": "yes please"}), "purposes.analytics"),
        (decision(extra=1), "extra"),
        (decision(gcm={"ad_storage": "maybe"}), "gcm.ad_storage"),
        (decision(gcm={"my_own_storage": "granted"}), "gcm.my_own_storage.[key]"),
        (decision(tcf="Dear log, please keep this text forever."), "tcf"),
        (decision(tcf="CPtestTCString.yes"), "tcf"),
    ],
)
def test_malformed_decisions_get_field_errors(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/consent", json=body, headers=HEADERS)
    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["fields"]]


def test_unknown_sites_and_foreign_origins_are_refused(client: TestClient) -> None:
    response = client.post("/api/consent", json=decision(site="nosuch"), headers=HEADERS)
    assert response.status_code == 403
    foreign = HEADERS | {"origin": "https://evil.example"}
    response = client.post("/api/consent", json=decision(), headers=foreign)
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"


def test_an_oversized_decision_is_413_and_a_wrong_media_type_415(client: TestClient) -> None:
    body = decision(tcf="x" * 9000)
    assert client.post("/api/consent", json=body, headers=HEADERS).status_code == 413
    form = HEADERS | {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/api/consent", content=b"a=b", headers=form).status_code == 415


def test_gpc_is_recorded_as_a_denial_unless_the_visitor_grants_explicitly(
    client: TestClient,
) -> None:
    gpc = HEADERS | {"sec-gpc": "1"}
    signal = client.post("/api/consent", json=decision(method="gpc"), headers=gpc).json()
    assert {p["id"]: p["choice"] for p in signal["purposes"]}["analytics"] == "denied"
    assert signal["gpc"] is True
    explicit = client.post("/api/consent", json=decision(method="banner"), headers=gpc).json()
    assert {p["id"]: p["choice"] for p in explicit["purposes"]}["analytics"] == "granted"
    assert explicit["gpc"] is True


def test_withdrawal_erases_the_visitors_events_within_one_cycle(client: TestClient) -> None:
    browser_id = secrets.token_urlsafe(16)
    client.post("/api/consent", json=decision(browser_id), headers=HEADERS)
    events = {
        "site": "demo",
        "visitor": browser_id,
        "events": [
            {"id": secrets.token_hex(8), "type": "pageview", "ts": int(time.time() * 1000),
             "url": f"{ORIGIN}/pricing"}
            for _ in range(4)
        ],
    }  # fmt: skip
    assert client.post("/api/events", json=events, headers=HEADERS).json()["accepted"] == 4
    key = app_services(client).ledger.visitor_key("demo", browser_id)
    withdrawal = client.post(
        "/api/consent", json=decision(browser_id, analytics=False), headers=HEADERS
    ).json()
    assert withdrawal["kind"] == "withdrawal"
    run_job(client, "consent.erase")  # flushes the spool first: the 4 events were in it
    count = "SELECT count() FROM events WHERE visitor_key = {k:String}"
    assert app_services(client).store.scalar(count, {"k": key}) == 0
    run_job(client, "consent.sequence")
    erasure = client.get(f"/api/erasures/{withdrawal['receipt_id']}")
    assert erasure.status_code == 200
    assert erasure.json()["rows_deleted"] == {"events": 4}
    assert verify_receipt(erasure.json(), verifier(client)).kind == "erasure"


def test_a_delete_request_is_accepted_and_carried_out(client: TestClient) -> None:
    browser_id = secrets.token_urlsafe(16)
    client.post("/api/consent", json=decision(browser_id), headers=HEADERS)
    body = {"site": "demo", "visitor": browser_id}
    assert client.get(f"/api/erasures/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/api/erasures/{'0' * 36}").status_code == 400  # not even an id
    response = client.request("DELETE", "/api/me", json=body, headers=HEADERS)
    assert response.status_code == 202
    request_id = response.json()["withdrawal"]["receipt_id"]
    assert response.json()["erasure"]["receipt_url"] == f"/api/erasures/{request_id}"
    run_job(client, "consent.erase")
    run_job(client, "consent.sequence")
    erasure = client.get(f"/api/erasures/{request_id}").json()
    assert erasure["request_receipt_id"] == request_id


def test_checkpoint_inclusion_and_consistency_endpoints_verify(client: TestClient) -> None:
    assert client.get("/api/transparency/checkpoint").status_code == 404
    first = [client.post("/api/consent", json=decision(), headers=HEADERS).json() for _ in range(3)]
    run_job(client, "consent.sequence")
    old = verifier(client).open(client.get("/api/transparency/checkpoint").text)
    for _ in range(4):
        client.post("/api/consent", json=decision(), headers=HEADERS)
    run_job(client, "consent.sequence")
    response = client.get("/api/transparency/checkpoint")
    assert response.headers["content-type"].startswith("text/plain")
    new = verifier(client).open(response.text)
    assert (old.tree_size, new.tree_size) == (3, 7)

    proof = client.get("/api/transparency/inclusion", params={"receipt": first[1]["receipt_id"]})
    body = proof.json()
    assert body["log_index"] == 1
    assert body["tree_size"] == 7
    assert verify_inclusion(
        bytes.fromhex(first[1]["leaf_hash"]),
        1,
        7,
        [base64.b64decode(h) for h in body["inclusion_proof"]],
        new.root_hash,
    )
    by_index = client.get("/api/transparency/inclusion", params={"index": 1, "tree_size": 3})
    assert by_index.json()["tree_size"] == 3

    consistency = client.get("/api/transparency/consistency", params={"from": 3, "to": 7}).json()
    hashes = [base64.b64decode(h) for h in consistency["proof"]]
    assert verify_consistency(3, 7, old.root_hash, new.root_hash, hashes)
    assert not verify_consistency(3, 7, new.root_hash, old.root_hash, hashes)


def test_transparency_endpoints_explain_bad_and_unavailable_requests(client: TestClient) -> None:
    assert client.get("/api/transparency/inclusion", params={"index": "x"}).status_code == 400
    assert client.get("/api/transparency/consistency", params={"from": 1}).status_code == 400
    missing = client.get("/api/transparency/inclusion", params={"receipt": str(uuid.uuid4())})
    assert missing.status_code == 404
    malformed = client.get("/api/transparency/inclusion", params={"receipt": "nope"})
    assert malformed.status_code == 400
    assert "UUID" in malformed.json()["detail"]
    run_job(client, "consent.sequence")
    too_far = client.get("/api/transparency/consistency", params={"from": 0, "to": 5})
    assert too_far.status_code == 404
    assert "latest checkpoint" in too_far.json()["detail"]
    assert client.get(f"/api/consent/receipts/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/consent/receipts/nope").status_code == 400


def test_a_site_page_on_another_origin_may_read_the_receipt(settings: Settings) -> None:
    shop = "https://shop.example"
    site = settings.sites[0].model_copy(
        update={"allowed_origins": [*settings.sites[0].allowed_origins, shop]}
    )
    manual = settings.model_copy(update={"sites": [site], "jobs": JobSettings(in_process=False)})
    with TestClient(create_app(manual)) as client:
        response = client.post("/api/consent", json=decision(), headers=HEADERS | {"origin": shop})
        assert response.status_code == 201
        assert response.headers["access-control-allow-origin"] == shop
        foreign = HEADERS | {"origin": "https://evil.example"}
        refused = client.post("/api/consent", json=decision(), headers=foreign)
        assert "access-control-allow-origin" not in refused.headers


def test_a_tc_string_goes_into_the_log_only_well_formed(client: TestClient) -> None:
    # Encoded by the IAB's own library: purposes 1 and 8 (tests/support/tc_strings.cjs).
    tc_string = "CQuzncAQuzncAAKACAENCWEAAIEAAAAAAAYgF5wAgAGALzAAAAAA.IPoQAwAGALzA-gAA"
    answer = client.post(
        "/api/consent", json=decision(method="cmp", tcf=tc_string), headers=HEADERS
    )
    assert answer.status_code == 201
    assert answer.json()["tcf"] == tc_string
    refused = client.post(
        "/api/consent",
        json=decision(method="cmp", tcf=tc_string + "AAAA" + "x" * 40),
        headers=HEADERS,
    )
    assert refused.status_code == 400
    assert [f["field"] for f in refused.json()["fields"]] == ["tcf"]
