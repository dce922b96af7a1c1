"""The cases API over HTTP: a site's help desk reads its cases and records what its team did
with a key that has the ``cases`` scope; every other key is refused, bad input gets a
clear error, and every read is in the admin action log (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import JobSettings
from collector.api_keys import ApiKeys
from collector.app import create_app
from tests.support.admin_accounts import logged_actions
from tests.support.case_shop import CaseShop, Customer, case_settings


@pytest.fixture
def shop(migrated_store: Store, tmp_path: Path, dsn: str, database: str) -> CaseShop:
    settings = case_settings(tmp_path, dsn, database)
    manual = settings.model_copy(update={"jobs": JobSettings(in_process=False)})
    return CaseShop.open(migrated_store, manual, utc_now())


@pytest.fixture
def client(shop: CaseShop) -> Iterator[TestClient]:
    with TestClient(create_app(shop.settings)) as test_client:
        yield test_client


def key(shop: CaseShop, site: str = "demo", scopes: tuple[str, ...] = ("cases",)) -> dict[str, str]:
    issued = ApiKeys(shop.store).create(site, "help desk", [], "test", scopes)
    return {"Authorization": f"Bearer {issued.token}"}


def at_risk(shop: CaseShop) -> Customer:
    who = shop.customer()
    shop.finding(who, "unresolved_repeat_contact")
    theirs = shop.customer(site="other")
    shop.finding(theirs, "churn_risk")
    assert shop.run() == (2, 0)
    return who


def test_the_help_desk_lists_open_cases_and_records_its_steps(
    shop: CaseShop, client: TestClient
) -> None:
    who = at_risk(shop)
    headers = key(shop)

    listed = client.get("/api/cases?site=demo", headers=headers)
    assert listed.status_code == 200
    (case,) = listed.json()["cases"]
    assert (case["customer"], case["rule_id"], case["status"]) == (
        who.reference,
        "unresolved_repeat_contact",
        "open",
    )
    path = f"/api/cases/{case['case_id']}/actions?site=demo"
    for step in ("acknowledged", "contacted", "resolved"):
        answer = client.post(
            path, json={"action": step, "note": f"{step} by the desk"}, headers=headers
        )
        assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["status"] == "resolved"
    assert after["resolved_at"] is not None
    assert [s["action"] for s in after["history"]] == ["acknowledged", "contacted", "resolved"]
    assert after["history"][1]["note"] == "contacted by the desk"
    assert client.get("/api/cases?site=demo", headers=headers).json()["cases"] == []
    resolved = client.get("/api/cases?site=demo&status=resolved", headers=headers).json()
    assert [c["case_id"] for c in resolved["cases"]] == [case["case_id"]]

    again = client.post(path, json={"action": "resolved"}, headers=headers)
    assert (again.status_code, again.json()["error"]) == (409, "not_now")
    reads = [row for row in logged_actions(client) if row.username.startswith("api:")]
    assert [row.action for row in reads].count("view_inbox") == 3
    assert [row.action for row in reads].count("act_on_case") == 3


def test_keys_without_the_scope_or_of_another_site_are_refused(
    shop: CaseShop, client: TestClient
) -> None:
    at_risk(shop)
    case_id = shop.book().states("demo")[0].record.case_id
    path = f"/api/cases/{case_id}/actions?site=demo"
    cases = {
        "no key": ({}, 401, "invalid_api_key"),
        "a made-up key": (
            {"Authorization": "Bearer cs_sk_000000000000_" + "A" * 43},
            401,
            "invalid_api_key",
        ),
        "a sending key": (key(shop, scopes=()), 403, "out_of_scope"),
        "another site's key": (key(shop, site="other"), 403, "key_not_for_site"),
    }
    for name, (headers, status, error) in cases.items():
        listed = client.get("/api/cases?site=demo", headers=headers)
        stepped = client.post(path, json={"action": "contacted"}, headers=headers)
        assert (listed.status_code, listed.json()["error"]) == (status, error), name
        assert (stepped.status_code, stepped.json()["error"]) == (status, error), name
    case = shop.book().state("demo", case_id)
    assert case is not None
    assert case.actions == ()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "escalated"}, 400),
        ({"action": "noted", "note": ""}, 409),
        ({"action": "noted", "note": "x" * 501}, 409),
        ({"action": "contacted", "email": "someone@example.com"}, 400),
    ],
)
def test_bad_steps_get_a_clear_error_and_change_nothing(
    shop: CaseShop, client: TestClient, body: dict[str, str], status: int
) -> None:
    at_risk(shop)
    case_id = shop.book().states("demo")[0].record.case_id
    headers = key(shop)
    answer = client.post(f"/api/cases/{case_id}/actions?site=demo", json=body, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"] in ("invalid", "not_now")
    missing = client.post(
        "/api/cases/" + "0" * 32 + "/actions?site=demo",
        json={"action": "contacted"},
        headers=headers,
    )
    assert missing.status_code == 404
    case = shop.book().state("demo", case_id)
    assert case is not None
    assert case.actions == ()
    assert client.get("/api/cases?site=demo&status=maybe", headers=headers).status_code == 400
