"""A customer's touchpoints on /me in a real browser: on a signed-in page the link add-on
(cs-link.js, with the token the site signed) links the consenting browser to the
customer; the site's systems send contacts, a complaint and an order; the visitor's
visits had dwindled over the last fortnight. /me lists what the site's systems told and
explains the churn_risk signal with both parts of its evidence."""

from __future__ import annotations

from tests.browser.customers import at_risk_customer
from tests.browser.harness import Visit


def test_a_linked_customers_touchpoints_and_churn_risk_are_explained_on_me(visit: Visit) -> None:
    collector = visit.collector
    customer, _ = at_risk_customer(visit)

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
