"""/admin/keys (both backends): an account makes, sees and revokes the keys of its own
sites only; a key is shown once; a revoked key is refused by POST /api/server-events."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import IngestSettings, JobSettings, Settings
from collector.api_keys import ApiKeys
from collector.app import create_app
from tests.support.admin_accounts import OWNER, admin_settings, csrf_token, logged_actions, sign_in
from tests.support.collector_app import app_services
from tests.support.server_events import server_event, touchpoint_settings

TOKEN = re.compile(r"cs_sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    configured = touchpoint_settings(settings).model_copy(
        update={
            "admin": admin_settings(owner_sites=("demo",)),
            "jobs": JobSettings(in_process=False),
            "ingest": IngestSettings(api_key_cache_seconds=0.2),
        }
    )
    with TestClient(create_app(configured)) as test_client:
        sign_in(test_client, OWNER)
        yield test_client


def send(client: TestClient, token: str) -> int:
    body = {"site": "demo", "events": [server_event("contact", "c-1")]}
    headers = {"authorization": f"Bearer {token}"}
    return client.post("/api/server-events", json=body, headers=headers).status_code


def test_an_owner_makes_sees_and_revokes_its_sites_keys_only(client: TestClient) -> None:
    page = client.get("/admin/keys")
    assert page.status_code == 200
    form = {"csrf": csrf_token(page.text), "site": "demo", "name": "help desk"}
    made = client.post("/admin/keys", data=form | {"kind_contact": "on", "kind_complaint": "on"})
    assert made.status_code == 200
    tokens = TOKEN.findall(made.text)
    assert len(tokens) == 1
    token = tokens[0]
    key = ApiKeys(app_services(client).store).authenticate(token)
    assert key is not None
    assert (key.site, key.kinds, key.created_by) == (
        "demo",
        {"contact", "complaint"},
        "admin:owner",
    )
    assert send(client, token) == 202
    again = client.get("/admin/keys")
    assert key.key_id in again.text
    assert TOKEN.search(again.text) is None  # shown once
    other = client.post("/admin/keys", data=form | {"site": "other", "kind_order": "on"})
    assert other.status_code == 404
    ApiKeys(app_services(client).store).create("other", "not theirs", ["order"], "cli")
    assert "not theirs" not in client.get("/admin/keys").text
    revoke = {"csrf": form["csrf"], "site": "demo", "key_id": key.key_id}
    assert client.post("/admin/keys/revoke", data=revoke).status_code == 200
    time.sleep(0.3)
    assert send(client, token) == 401
    assert [a.action for a in logged_actions(client) if "api_key" in a.action] == [
        "create_api_key",
        "revoke_api_key",
    ]
    no_kind = client.post("/admin/keys", data=form)
    assert no_kind.status_code == 400


def test_making_a_key_needs_the_csrf_token(client: TestClient) -> None:
    refused = client.post("/admin/keys", data={"site": "demo", "kind_order": "on"})
    assert refused.status_code == 403
    assert ApiKeys(app_services(client).store).listed() == []
