"""/admin/inbox over HTTP: a support agent sees their sites' cases by priority, works a case
through claim, contact and resolution, and every look is in the action log; nobody else
sees the cases (both backends)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from aggregator.cases.state import Action
from aggregator.store.client import Store
from clearsignal.clock import utc_now
from clearsignal.settings import JobSettings
from collector.app import create_app
from tests.support.admin_accounts import (
    AGENT,
    OTHER_AGENT,
    OWNER,
    admin_settings,
    agent,
    csrf_token,
    logged_actions,
    sign_in,
)
from tests.support.case_shop import CaseShop, Customer, case_settings


@pytest.fixture
def shop(migrated_store: Store, tmp_path: Path, dsn: str, database: str) -> CaseShop:
    base = case_settings(tmp_path, dsn, database)
    accounts = admin_settings(("demo",))
    users = [*accounts.users, agent(AGENT, "demo"), agent(OTHER_AGENT, "other")]
    settings = base.model_copy(
        update={
            "admin": accounts.model_copy(update={"users": users}),
            "jobs": JobSettings(in_process=False),
        }
    )
    return CaseShop.open(migrated_store, settings, utc_now())


@pytest.fixture
def client(shop: CaseShop) -> Iterator[TestClient]:
    with TestClient(create_app(shop.settings), base_url="https://testserver") as test_client:
        yield test_client


def cases_of(page: str) -> list[str]:
    return re.findall(r'href="/admin/inbox/demo/([0-9a-f]{32})"', page)


def at_risk(shop: CaseShop) -> tuple[Customer, Customer]:
    first, second = shop.customer(), shop.customer()
    shop.finding(first, "churn_risk")
    shop.finding(second, "escalation")
    shop.customer(site="other")
    assert shop.run() == (2, 0)
    return first, second


def test_an_agent_works_a_case_from_the_inbox_and_every_look_is_logged(
    shop: CaseShop, client: TestClient
) -> None:
    first, second = at_risk(shop)
    assert sign_in(client, AGENT).status_code == 303

    inbox = client.get("/admin/inbox")
    assert inbox.status_code == 200
    assert first.reference in inbox.text
    assert second.reference in inbox.text
    ids = cases_of(inbox.text)
    assert len(ids) == 2
    top = shop.book().state("demo", ids[0])
    assert top is not None
    assert top.record.rule_id == "churn_risk"  # weight 3 before 2

    page = client.get(f"/admin/inbox/demo/{ids[0]}")
    assert page.status_code == 200
    assert first.reference in page.text
    assert 'accesskey="a"' in page.text
    for step, note in (
        ("claimed", ""),
        ("contacted", "Phoned; a refund is on its way."),
        ("resolved", ""),
    ):
        answer = client.post(
            f"/admin/inbox/demo/{ids[0]}",
            data={"csrf": csrf_token(page.text), "action": step, "note": note},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        page = client.get(answer.headers["location"])
    assert "Phoned; a refund is on its way." in page.text
    case = shop.book().state("demo", ids[0])
    assert case is not None
    assert (case.status.value, case.owner) == ("resolved", f"admin:{AGENT}")

    again = client.post(
        f"/admin/inbox/demo/{ids[0]}",
        data={"csrf": csrf_token(page.text), "action": "resolved"},
    )
    assert again.status_code == 409

    looks = [(row.action, row.detail) for row in logged_actions(client) if row.username == AGENT]
    assert [action for action, _ in looks].count("view_case") == 4
    assert ("view_case", f"case={ids[0]} customer={first.customer_key}") in looks
    steps = [detail.rsplit("step=", 1)[1] for action, detail in looks if action == "act_on_case"]
    assert steps == ["claimed", "contacted", "resolved"]
    assert any(action == "view_inbox" for action, _ in looks)


def test_nobody_else_sees_the_cases(shop: CaseShop, client: TestClient) -> None:
    first, _ = at_risk(shop)
    case_id = shop.book().states("demo")[0].record.case_id

    assert sign_in(client, OTHER_AGENT).status_code == 303
    theirs = client.get("/admin/inbox")
    assert theirs.status_code == 200
    assert cases_of(theirs.text) == []
    assert first.reference not in theirs.text
    assert client.get(f"/admin/inbox/demo/{case_id}").status_code == 404
    assert client.get("/admin/inbox?site=demo").status_code == 404

    client.cookies.clear()
    assert sign_in(client, OWNER).status_code == 303
    assert client.get("/admin/inbox").status_code == 403
    assert client.get(f"/admin/inbox/demo/{case_id}").status_code == 403
    assert first.reference not in client.get("/admin/dashboard").text


def test_a_withdrawal_takes_the_case_off_the_inbox(shop: CaseShop, client: TestClient) -> None:
    first, second = at_risk(shop)
    shop.decide(first.browser_id, analytics=True, personalization=False)
    assert shop.run() == (0, 1)

    assert sign_in(client, AGENT).status_code == 303
    inbox = client.get("/admin/inbox?status=all")
    assert first.reference not in inbox.text
    assert second.reference in inbox.text
    assert len(cases_of(inbox.text)) == 1


def test_the_dashboard_shows_response_figures_only_for_k_customers(
    shop: CaseShop, client: TestClient
) -> None:
    k = shop.site().k_anonymity
    customers = [shop.customer() for _ in range(k - 1)]
    for who in customers:
        shop.finding(who, "churn_risk", ended=timedelta(hours=30))
    shop.clock.advance(timedelta(hours=-26))  # opened 26 hours ago: due
    assert shop.run() == (k - 1, 0)
    assert sign_in(client, OWNER).status_code == 303
    assert f"Fewer than {k} customers had a case" in client.get("/admin/dashboard").text

    last = shop.customer()
    shop.finding(last, "churn_risk", ended=timedelta(hours=30))
    shop.run()
    book = shop.book()
    for case in book.states("demo")[: k // 2]:
        book.act(
            case, Action.RESOLVED, "admin:agent", now=case.record.opened_at + timedelta(hours=2)
        )
    page = client.get("/admin/dashboard").text
    assert "Response to cases" in page
    assert f"{k // 2 / k:.0%} of {k}" in page  # resolved in time, of the cases due
    assert "below target" in page
