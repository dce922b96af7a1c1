"""A customer's touchpoints on /me in a real browser: on a signed-in page the link add-on
(cs-link.js, with the token the site signed) links the consenting browser to the
customer; the site's systems send contacts, a complaint and an order; the visitor's
visits had dwindled over the last fortnight. /me lists what the site's systems told and
explains the churn_risk signal with both parts of its evidence."""

from __future__ import annotations

import json
import secrets
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from clearsignal.clock import wire_time
from collector.api_keys import ApiKeys
from tests.browser.harness import Collector, Visit
from tests.support.event_history import Visitor, save
from tests.support.server_events import server_event, signed_link

BROWSER_ID = "() => localStorage.getItem('cs_id')"


def earlier_visits(collector: Collector, visitor_key: str, days: tuple[int, ...]) -> None:
    """Page views of this visitor on earlier days: the visits that dwindled since."""
    today = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)
    visitor = Visitor(visitor_key)
    for day in days:
        visitor.add(today - timedelta(days=day), path="/account")
    save(collector.store, visitor)


def send(collector: Collector, key: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{collector.loopback}/api/server-events",
        data=json.dumps({"site": "demo", "events": events}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def test_a_linked_customers_touchpoints_and_churn_risk_are_explained_on_me(visit: Visit) -> None:
    collector = visit.collector
    customer = f"cust-{secrets.token_hex(4)}"
    visit.open("account.html", cs_link=signed_link(customer))
    visit.page.click("#allow")
    visit.wait_for(lambda: visit.page.evaluate(BROWSER_ID) is not None)
    subject = json.loads(visit.storage()["cs_receipt"])["subject"]
    visit.wait_for(
        lambda: (
            collector.store.scalar(
                "SELECT count() FROM customer_links WHERE visitor_key = {v:String}", {"v": subject}
            )
            == 1
        )
    )
    earlier_visits(collector, subject, (26, 24, 22, 19, 17))
    now = datetime.now(UTC)
    events = [
        server_event("order", customer, at=wire_time(now - timedelta(days=40))),
        server_event("contact", customer, at=wire_time(now - timedelta(days=9)), topic="delivery"),
        server_event("complaint", customer, at=wire_time(now - timedelta(days=6))),
        server_event("contact", customer, at=wire_time(now - timedelta(days=3)), topic="billing",
                     ticket="T-2"),
    ]  # fmt: skip
    key = ApiKeys(collector.store).create(
        "demo", "browser test", ["order", "contact", "complaint"], "tests"
    )
    assert send(collector, key.token, events) == {"accepted": 4, "dropped": {}}
    collector.run_jobs("signals.compute")

    visit.page.goto(f"{collector.origin}/me?site=demo")
    visit.page.wait_for_selector("#systems li")
    visit.page.wait_for_selector("article[data-rule='churn_risk']")
    systems = visit.page.locator("#systems li").all_inner_texts()
    assert [line.split(" — ")[0] for line in systems] == [
        "Contact opened (billing)",
        "Complaint filed (late_delivery)",
        "Contact opened (delivery)",
        "Order placed, 49.90 EUR",
    ]
    summary = visit.page.locator("#systems-summary").inner_text()
    assert "linked to a customer account of the site (1 link" in summary
    churn = visit.page.locator("article[data-rule='churn_risk']")
    noticed = churn.locator("dd").first.inner_text()
    assert "you visited far less" in noticed
    assert "while you contacted us more (3 contacts" in noticed
    evidence = churn.locator(".evidence li").all_inner_texts()
    details = [line.split(" — ", 1)[1] for line in evidence]
    assert details.count("visit") == 5
    assert sorted(d for d in details if d != "visit") == [
        "complaint: late_delivery",
        "contact: billing",
        "contact: delivery",
    ]
    assert churn.locator("h3").inner_text() == "Churn risk"
    assert customer not in visit.page.content()  # the reference never reaches the visitor
