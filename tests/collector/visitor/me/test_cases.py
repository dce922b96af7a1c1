"""/api/me tells a customer about their case: when the site was told, what it did and when,
with the team's notes, never the agents' names (both backends)."""

from __future__ import annotations

from datetime import timedelta

from starlette.testclient import TestClient

from aggregator.cases.state import Action
from clearsignal.clock import utc_now
from clearsignal.settings import Settings
from tests.support.case_shop import CaseShop
from tests.support.collector_app import app_services
from tests.support.me_visitor import me


def test_the_customer_reads_what_the_site_did_about_their_case(
    client: TestClient, settings: Settings
) -> None:
    services = app_services(client)
    shop = CaseShop.open(services.store, settings, utc_now() - timedelta(hours=3))
    who, other = shop.customer(), shop.customer()
    shop.finding(who, "repeated_complaints")
    shop.finding(other, "churn_risk")
    assert shop.run() == (2, 0)
    book = shop.book()
    case = next(c for c in book.states("demo") if c.record.visitor_key == who.visitor_key)
    shop.clock.advance(timedelta(hours=1))
    case = book.act(case, Action.CLAIMED, "admin:ziggy-stardust", now=shop.clock.now)
    shop.clock.advance(timedelta(minutes=5))
    case = book.act(
        case, Action.CONTACTED, "admin:ziggy-stardust", "Sent a replacement.", now=shop.clock.now
    )
    shop.clock.advance(timedelta(hours=1))
    book.act(case, Action.RESOLVED, "api:0123456789ab", now=shop.clock.now)

    answer = me(client, who.browser_id)
    assert answer.status_code == 200
    held = answer.json()
    (told,) = held["cases"]
    assert (told["case_id"], told["rule_id"], told["status"]) == (
        case.record.case_id,
        "repeated_complaints",
        "resolved",
    )
    assert [(s["by"], s["step"], s["note"]) for s in told["steps"]] == [
        ("the site's team", "claimed", ""),
        ("the site's team", "contacted", "Sent a replacement."),
        ("the site's systems", "resolved", ""),
    ]
    assert [row["kept"] for row in held["customer_references"]] == ["sealed"]
    text = answer.text
    assert "ziggy" not in text
    assert who.reference not in text
    assert "cases" not in held["held_elsewhere"]
    assert "case_actions" not in held["held_elsewhere"]
    assert me(client, other.browser_id).json()["cases"][0]["status"] == "open"
