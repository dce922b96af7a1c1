"""/admin in a real browser, as a site owner and as a privacy officer: signing in with the
keyboard, what each role sees and may not see, the console's search, verification and
export, forms refused without their CSRF token or a session (also across sites), and
the accessibility basics of every page.

The site ``adminshop`` (k = 5) gets a simulated fortnight and every derived job first.
The last full run's pages are saved as docs/screenshots/analytics.png, dashboard.png and
console.png.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collector.admin.accounts import save_file_user
from tests.browser.accessibility import check_basics, tab_to, unreachable_by_keyboard
from tests.browser.harness import REPO, Collector, Visit
from tests.support.admin_accounts import OFFICER, OWNER, PASSWORDS, admin_settings

SITE = "adminshop"
SCREENSHOTS = REPO / "docs" / "screenshots"
OWNER_NAV = ["Analytics", "Dashboard", "API keys"]
OFFICER_NAV = [
    "Analytics", "Dashboard", "API keys", "Consent log", "Erasure requests", "Verify the log", "Export",
    "Record of processing", "Admin actions",
]  # fmt: skip
JOBS = ("consent.erase", "consent.sequence", "analytics.rollup", "sessions.compute", "signals.compute",
        "summaries.compute", "signals.validate")  # fmt: skip


@pytest.fixture(scope="module")
def withdrawal(collector: Collector) -> str:
    """The simulated shop with its jobs run, the two accounts, and one visitor who
    withdrew and was erased; returns that withdrawal's receipt id."""
    for account in admin_settings((SITE,)).users:
        save_file_user(collector.data_dir / "admin" / "users.json", account)
    collector.simulate(SITE, visitors=4000, days=14, seed=3)
    leaving = secrets.token_urlsafe(16)
    collector.decide(SITE, leaving, True)
    receipt = str(collector.decide(SITE, leaving, False)["receipt_id"])
    collector.run_jobs(*JOBS)
    return receipt


def sign_in_with_the_keyboard(visit: Visit, username: str) -> None:
    page = visit.page
    page.goto(f"{visit.collector.origin}/admin")
    assert page.url.endswith("/admin/login?next=%2Fadmin")
    check_basics(page, "Sign in — ClearSignal admin")
    tab_to(page, "username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORDS[username])
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/" + ("dashboard" if username == OWNER else "console"))


def refused_by_the_policy(visit: Visit) -> list[str]:
    """Console errors from the Content Security Policy: a style or script it refused."""
    return [error for error in visit.console_errors if "Content Security Policy" in error]


def nav_links(page: Any) -> list[str]:
    nav = page.get_by_role("navigation", name="Admin sections")
    return list(nav.get_by_role("link").all_inner_texts())


def signed_in(
    make_visit: Callable[..., Visit], username: str, start_page: str, nav: list[str]
) -> Visit:
    """A fresh browser signed in as ``username``, on its start page with its links."""
    visit = make_visit(viewport={"width": 1280, "height": 900})
    sign_in_with_the_keyboard(visit, username)
    check_basics(visit.page, f"{start_page} — ClearSignal admin")
    assert nav_links(visit.page) == nav
    return visit


def test_a_site_owner_sees_the_dashboard_and_nothing_else(
    make_visit: Callable[..., Visit], withdrawal: str
) -> None:
    visit = signed_in(make_visit, OWNER, "Dashboard: Example shop", OWNER_NAV)
    page = visit.page
    assert page.get_by_role("img", name="Visitors and sessions per day").is_visible()
    assert page.get_by_role("img", name="Visitors reaching each funnel step").is_visible()
    assert page.locator("svg[role=img]").count() >= 5
    assert page.get_by_text("fewer than 5").first.is_visible()
    rule = page.locator("#rule-price_uncertainty")
    assert "Coming back to prices several times" in rule.inner_text()
    assert "min_visits = 3" in rule.inner_text()
    assert "association, not causation" in page.locator("#validation-h + p").inner_text()
    assert unreachable_by_keyboard(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    for path in ("/admin/console", f"/admin/console/receipts/{withdrawal}", "/admin/console/ropa"):
        response = page.goto(f"{visit.collector.origin}{path}")
        assert response.status == 403
        assert page.locator("h1").inner_text() == "Not for this account"
    page.goto(f"{visit.collector.origin}/admin/dashboard")
    tab_to(page, "sign-out")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/login")
    page.goto(f"{visit.collector.origin}/admin/dashboard")
    assert "/admin/login" in page.url
    assert refused_by_the_policy(visit) == []


def test_a_privacy_officer_searches_verifies_and_exports(
    make_visit: Callable[..., Visit], withdrawal: str
) -> None:
    visit = signed_in(make_visit, OFFICER, "Consent log", OFFICER_NAV)
    page = visit.page
    assert unreachable_by_keyboard(page) == []

    page.get_by_label("Site").select_option(SITE)
    page.get_by_label("Kind").select_option("consent")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**kind=consent**")  # the search's own page, not the one before it
    rows = page.locator("table tbody tr")
    assert rows.count() == 50
    assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"consent"}
    page.screenshot(path=str(SCREENSHOTS / "console.png"), full_page=True)

    page.get_by_label("Kind").select_option("")
    page.get_by_label("Receipt id").fill(withdrawal)
    page.get_by_label("Receipt id").press("Enter")
    page.wait_for_url(f"**receipt={withdrawal}**")
    assert rows.count() == 1
    assert rows.first.locator("td").nth(2).inner_text() == "withdrawal"
    page.get_by_role("link", name=withdrawal).click()
    check_basics(page, "Consent receipt — ClearSignal admin")
    assert page.get_by_role("heading", name="Erasure carried out for this request").is_visible()

    page.get_by_role("link", name="Verify the log").click()
    page.get_by_role("button", name="Verify the consent log now").click()
    assert page.get_by_role("heading", name="Result: verified").is_visible()
    assert page.get_by_role("status").inner_text().startswith("log verified:")

    page.get_by_role("link", name="Export").click()
    check_basics(page, "Export consent records — ClearSignal admin")
    page.get_by_label("Site").select_option(SITE)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the export").click()
    exported = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert withdrawal in {row["receipt_id"] for row in exported}
    assert {row["site"] for row in exported} == {SITE}

    for name in ("Erasure requests", "Record of processing", "Admin actions"):
        page.get_by_role("navigation", name="Admin sections").get_by_role("link", name=name).click()
        check_basics(page, f"{name} — ClearSignal admin")
        assert unreachable_by_keyboard(page) == []
    actions = page.locator("table tbody").inner_text()
    for action in ("login", "search_consent_log", "view_receipt", "verify_log", "export"):
        assert action in actions
    assert refused_by_the_policy(visit) == []


def _summary_visitors(page: Any) -> int:
    text = page.locator(".figure", has_text="Visitors").first.locator("dd").inner_text()
    return int(text.split("was")[0].strip().replace(",", ""))


def test_a_site_owner_filters_compares_downloads_and_shares_the_analytics(
    make_visit: Callable[..., Visit], withdrawal: str
) -> None:
    visit = signed_in(make_visit, OWNER, "Dashboard: Example shop", OWNER_NAV)
    page = visit.page
    page.get_by_role("navigation", name="Admin sections").get_by_role(
        "link", name="Analytics"
    ).click()
    check_basics(page, "Analytics: Example shop — ClearSignal admin")
    assert unreachable_by_keyboard(page) == []
    assert page.get_by_role("img", name="Visitors per day").is_visible()
    everyone = _summary_visitors(page)

    # Filters set by clicking rows, combined, and removed one at a time.
    page.locator("#table-pages tbody a").first.click()
    page.wait_for_url("**page=**")
    on_the_page = _summary_visitors(page)
    assert 0 < on_the_page < everyone
    page.locator("#table-browsers tbody a").first.click()
    page.wait_for_url("**browser=**")
    assert "page=" in page.url
    filters = page.locator(".filters li")
    assert filters.count() == 2
    filters.filter(has_text="Page is").get_by_role("link", name="remove").click()
    page.wait_for_url(lambda url: "page=" not in url)
    assert page.locator(".filters li").count() == 1
    page.get_by_role("link", name="Remove every filter").click()
    assert _summary_visitors(page) == everyone

    # The period before, beside every figure and in the chart.
    page.get_by_label("Period", exact=True).select_option("7d")
    page.get_by_label("Compare with the period before").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**compare=previous**")
    assert page.locator(".was").count() == 6
    assert "Previous period" in page.get_by_role("img", name="Visitors per day").inner_html()
    check_basics(page, "Analytics: Example shop — ClearSignal admin")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "analytics.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download Top pages as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert rows
    assert all(int(row["visitors"]) >= 5 for row in rows)
    assert set(rows[0]) == {"key", "visitors", "value", "share", "previous_visitors"}

    # A shared link, opened in another browser without signing in, then revoked.
    page.get_by_label("Label").fill("weekly review")
    page.get_by_role("button", name="Make a link").click()
    page.wait_for_url("**#share-h")
    link = page.locator("#share-h ~ table code").first.inner_text()
    guest = make_visit(viewport={"width": 1280, "height": 900})
    guest.page.goto(link)
    check_basics(guest.page, "Analytics: Example shop (shared, read only) — ClearSignal admin")
    assert guest.page.locator("#table-pages tbody a").count() > 0
    guest.page.locator("#table-countries tbody a").first.click()
    guest.page.wait_for_url("**country=**")
    assert guest.page.url.startswith(link)
    page.get_by_role("button", name="Revoke").first.click()
    page.wait_for_url("**#share-h")
    assert guest.page.goto(link).status == 404
    assert refused_by_the_policy(visit) == []
    assert refused_by_the_policy(guest) == []


POST_FORM = """async ([url, token]) => (await fetch(url, {
  method: 'POST', body: new URLSearchParams({ csrf: token }), redirect: 'manual',
})).status"""


def test_forms_without_a_session_or_their_token_are_refused(
    make_visit: Callable[..., Visit], withdrawal: str
) -> None:
    visit = make_visit()
    origin = visit.collector.origin
    verify = f"{origin}/admin/console/verify"
    page = visit.page
    page.goto(f"{origin}/healthz")  # a page of the same site, without /admin's policy
    assert page.evaluate(POST_FORM, [verify, "x"]) == 401
    sign_in_with_the_keyboard(visit, OFFICER)
    page.goto(verify)
    token = page.locator("main input[name=csrf]").get_attribute("value")
    page.goto(f"{origin}/healthz")
    assert page.evaluate(POST_FORM, [verify, token[::-1]]) == 403
    assert page.evaluate(POST_FORM, [verify, token]) == 200
    # Another site's page posting the same form, token and all: the cookie stays home.
    page.goto(f"{visit.collector.loopback}/healthz")
    with page.expect_navigation():
        page.evaluate(
            """([action, token]) => {
              const form = Object.assign(document.createElement('form'), { method: 'post', action })
              form.append(Object.assign(document.createElement('input'), { name: 'csrf', value: token }))
              document.body.append(form)
              form.submit()
            }""",
            [verify, token],
        )
    assert page.locator("h1").inner_text() == "Signed out"
