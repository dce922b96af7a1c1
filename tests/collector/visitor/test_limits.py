"""No client floods the permanent log or guesses ids at will: decisions and lookups are
rate-limited per network address, and decisions per site too (both backends)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, LimitSettings, Settings
from collector.app import create_app
from tests.support.collector_app import app_services, decision, from_address
from tests.support.site_requests import HEADERS

ADDRESS = ("203.0.113.50", 40000)


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    limits = LimitSettings(
        consent_address_burst=5,
        consent_per_address_per_second=0.01,
        consent_site_burst=8,
        consent_per_site_per_second=0.01,
        lookups_address_burst=10,
        lookups_per_address_per_second=0.01,
    )
    return settings.model_copy(update={"limits": limits, "jobs": JobSettings(in_process=False)})


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings), client=ADDRESS) as test_client:
        yield test_client


def records(client: TestClient) -> int:
    count: int = app_services(client).store.scalar("SELECT count() FROM consent_records")
    return count


def test_one_address_records_at_most_its_burst_of_decisions(client: TestClient) -> None:
    answers = [
        client.post("/api/consent", json=decision(), headers=HEADERS).status_code for _ in range(12)
    ]
    assert answers == [201] * 5 + [429] * 7
    assert records(client) == 5
    refused = client.post("/api/consent", json=decision(), headers=HEADERS)
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    # A delete request is a leaf of the log too.
    body = {"site": "demo", "visitor": secrets.token_urlsafe(16)}
    assert client.request("DELETE", "/api/me", json=body, headers=HEADERS).status_code == 429


def test_a_site_records_at_most_its_burst_whatever_the_addresses(client: TestClient) -> None:
    answers = []
    for n in range(12):
        other = from_address(client, f"198.51.100.{n + 1}")
        answers.append(other.post("/api/consent", json=decision(), headers=HEADERS).status_code)
    assert answers == [201] * 8 + [429] * 4
    assert records(client) == 8


def test_guessing_receipt_ids_is_throttled_like_reading(client: TestClient) -> None:
    answers = [client.get(f"/api/consent/receipts/{uuid.uuid4()}").status_code for _ in range(14)]
    assert answers == [404] * 10 + [429] * 4
    assert client.get(f"/api/erasures/{uuid.uuid4()}").status_code == 429
    assert (
        client.get("/api/transparency/inclusion", params={"receipt": str(uuid.uuid4())}).status_code
        == 429
    )
    # The log's checkpoint and key are the same for everyone: never limited.
    assert client.get("/api/transparency/public-key").status_code == 200
