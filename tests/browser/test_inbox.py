"""The response loop in a real browser. An at-risk customer (linked by the snippet on a
signed-in page, the site's systems' contacts and complaint, churn_risk found) appears in
the support agent's inbox; the agent, with the keyboard, claims the case, marks it
contacted and then resolved; the customer's /me shows what the site did and when; an
agent of another site sees nothing of it; a withdrawal takes the case away; every look is
in the admin action log. The inbox is saved as docs/screenshots/inbox.png."""

from __future__ import annotations

from collections.abc import Callable

from collector.admin.accounts import save_file_user
from tests.browser.customers import BROWSER_ID, at_risk_customer
from tests.browser.harness import REPO, Visit
from tests.support.admin_accounts import AGENT, OTHER_AGENT, PASSWORDS, agent

SCREENSHOT = REPO / "docs" / "screenshots" / "inbox.png"


def sign_in(visit: Visit, username: str) -> None:
    page = visit.page
    page.goto(f"{visit.collector.origin}/admin/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/inbox")


def press(visit: Visit, label: str) -> None:
    """A case button, reached and pressed with the keyboard; waits for the case page."""
    button = visit.page.get_by_role("button", name=label)
    button.focus()
    with visit.page.expect_navigation():
        visit.page.keyboard.press("Enter")


def test_an_agent_answers_an_at_risk_customer_who_sees_it_on_me(
    make_visit: Callable[..., Visit],
) -> None:
    shopper = make_visit()
    collector = shopper.collector
    reference, visitor_key = at_risk_customer(shopper)
    browser_id = shopper.page.evaluate(BROWSER_ID)
    collector.run_jobs("cases.open")
    users = collector.data_dir / "admin" / "users.json"
    save_file_user(users, agent(AGENT, "demo"))
    save_file_user(users, agent(OTHER_AGENT, "adminshop"))

    desk = make_visit(viewport={"width": 1280, "height": 900})
    sign_in(desk, AGENT)
    row = desk.page.locator("tbody tr", has_text=reference)
    assert row.count() == 1
    assert "churn risk" in row.inner_text().lower()
    link = row.get_by_role("link")
    case_id = link.get_attribute("href").rsplit("/", 1)[1]
    link.focus()
    with desk.page.expect_navigation():
        desk.page.keyboard.press("Enter")
    assert reference in desk.page.content()
    for label in ("Claim", "Mark contacted", "Mark resolved"):
        press(desk, label)
    facts = desk.page.locator("dl.case").inner_text()
    assert "resolved" in facts
    assert AGENT in facts
    desk.page.goto(f"{collector.origin}/admin/inbox?status=all")
    desk.page.screenshot(path=str(SCREENSHOT), full_page=True)

    shopper.page.goto(f"{collector.origin}/me?site=demo")
    told = shopper.page.locator(f"#cases li[data-case='{case_id}']")
    told.wait_for()
    assert told.get_attribute("data-status") == "resolved"
    steps = told.locator("li").all_inner_texts()
    assert [line.split(" — ")[0] for line in steps] == [
        "The site's team took on the case",
        "The site's team contacted you",
        "The site's team marked it resolved",
    ]
    assert reference not in shopper.page.content()

    other = make_visit()
    sign_in(other, OTHER_AGENT)
    assert reference not in other.page.content()
    answer = other.page.goto(f"{collector.origin}/admin/inbox/demo/{case_id}")
    assert answer is not None
    assert answer.status == 404

    collector.decide("demo", browser_id, False)
    collector.run_jobs("consent.erase", "cases.open")
    desk.page.goto(f"{collector.origin}/admin/inbox?status=all")
    assert reference not in desk.page.content()
    assert (
        collector.store.scalar(
            "SELECT count() FROM cases WHERE visitor_key = {v:String}", {"v": visitor_key}
        )
        == 0
    )

    looks = collector.store.rows(
        "SELECT action, detail FROM admin_actions WHERE username = {u:String} ORDER BY at",
        {"u": AGENT},
    )
    actions = [action for action, _ in looks]
    assert actions.count("view_inbox") >= 3
    assert any(action == "view_case" and f"case={case_id}" in detail for action, detail in looks)
    steps_logged = [
        detail.rsplit("step=", 1)[1] for action, detail in looks if action == "act_on_case"
    ]
    assert steps_logged == ["claimed", "contacted", "resolved"]
