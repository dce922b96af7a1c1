"""An at-risk customer made the way a real one is: the signed-in page's link add-on links
the consenting browser (analytics and personalization) to the site's customer, earlier
visits dwindle, and the site's systems send contacts, a complaint and an order; the
signals job then finds churn_risk."""

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

__all__ = ["BROWSER_ID", "at_risk_customer", "send"]

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


def at_risk_customer(visit: Visit) -> tuple[str, str]:
    """(the customer's reference, its visitor key), with churn_risk found."""
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
    return customer, subject
