"""The demo shop in a real browser, driven as a newcomer would after ``make run``: choose
in the consent banner (with the keyboard), look at the prices on three visits, put a
desk in the cart and stop at the shipping cost, press "Run jobs now", open "What do you
know about me?" and find the signals explained with their evidence; plus the
accessibility basics of every shop page.

Price uncertainty counts *visits*, and a visit is a session: the rule wants the pricing
page in three sessions, which end after 30 minutes without an event. A newcomer gets
there by coming back later (or on another day); this test does the same with the
browser's clock, which starts two hours ago and jumps 31 minutes while the visitor is
away. The events carry the browser's times, which the collector accepts up to 72 hours
old, so the store sees three visits half an hour apart, as it would from a person.

Playwright sets ``navigator.webdriver``, which makes the snippet send nothing (a bot);
a person's browser does not, so an init script says so. The shop's own tag is used as
served: no test attributes.

The README walkthrough's screenshots, docs/screenshots/demo-*.png, come from the last
full run of the first test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from tests.browser.accessibility import check_basics, tab_to, unreachable_by_keyboard
from tests.browser.harness import REPO, Rows, Visit
from tests.browser.test_me_page import check_signal_explained

SCREENSHOTS = REPO / "docs" / "screenshots"
SHOP = "Linden & Reed (ClearSignal demo)"
# A person's browser: not driven by automation, as far as the page can tell.
PERSON = "Object.defineProperty(Navigator.prototype, 'webdriver', { get: () => false })"
AWAY = "31:00"  # minutes:seconds away from the shop: the next visit is a new session
PAGES = {
    "/demo/": "Home",
    "/demo/products": "Products",
    "/demo/products/walnut-desk": "Walnut desk",
    "/demo/pricing": "Prices",
    "/demo/faq": "FAQ",
    "/demo/cart": "Your cart",
    "/demo/cart?item=walnut-desk": "Your cart",
    "/demo/checkout/shipping?item=walnut-desk": "Shipping",
    "/demo/checkout/payment?item=walnut-desk&shipping=standard": "Payment",
    "/demo/checkout/complete?item=walnut-desk&shipping=standard": "Order confirmed",
    "/demo/contact": "Contact us",
    "/demo/contact/thanks": "Message sent",
    "/demo/privacy": "Privacy notice",
}
TYPED = ("Ada Lovelace", "ada@example.org", "Where is my walnut desk?")


def screenshot(page: Any, name: str, part: Any = None) -> None:
    """The whole page, or one part of it with a margin around."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SCREENSHOTS / f"demo-{name}.png")
    if part is None:
        page.screenshot(path=path, full_page=True)
        return
    clip = part.evaluate(
        """(element) => {
          const box = element.getBoundingClientRect(), margin = 16
          const x = Math.max(box.left + window.scrollX - margin, 0)
          const y = Math.max(box.top + window.scrollY - margin, 0)
          return { x, y, width: box.width + 2 * margin, height: box.height + 2 * margin }
        }"""
    )
    page.screenshot(path=path, clip=clip, full_page=True)


def nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Shop").get_by_role("link", name=name).click()
    page.wait_for_load_state()


def away(visit: Visit) -> None:
    """Leave the shop (the page hands its last events to sendBeacon), and come back later."""
    visit.page.goto("about:blank")
    visit.context.clock.fast_forward(AWAY)


def pricing_visits(rows: Rows) -> list[datetime]:
    return [r["ts"] for r in rows if r["type"] == "pageview" and r["path"] == "/demo/pricing"]


def signal(visit: Visit, visitor_key: str, rule_id: str) -> dict[str, Any] | None:
    found = visit.collector.store.dicts(
        "SELECT rule_id, value, evidence FROM signals FINAL "
        "WHERE visitor_key = {key:String} AND rule_id = {rule:String}",
        {"key": visitor_key, "rule": rule_id},
    )
    return found[0] if found else None


def test_a_newcomer_consents_browses_runs_the_jobs_and_reads_their_signals(
    make_visit: Callable[..., Visit],
) -> None:
    visit = make_visit(init_script=PERSON, viewport={"width": 1100, "height": 800})
    visit.context.clock.install(time=datetime.now(UTC) - timedelta(hours=2))
    page, origin = visit.page, visit.collector.origin

    # First visit: the root leads to the shop; the banner asks; the keyboard answers.
    page.goto(f"{origin}/")
    assert page.url == f"{origin}/demo/"
    banner = page.locator("#consent-banner")
    banner.wait_for(state="visible")
    screenshot(page, "1-banner")
    tab_to(page, "accept-all")
    page.keyboard.press("Enter")
    page.wait_for_function("() => localStorage.getItem('cs_id') !== null")
    assert banner.is_hidden()
    assert "analytics and personalization allowed" in page.locator("#consent-status").inner_text()
    subject = json.loads(visit.storage()["cs_receipt"])["subject"]
    nav(page, "Pricing")
    assert page.locator("#your-data").get_attribute("href") == f"{origin}/me?site=demo"
    away(visit)

    # Second visit, half an hour later: prices again, the FAQ, a message to the shop.
    page.goto(f"{origin}/demo/pricing")
    assert banner.is_hidden()  # the decision holds
    nav(page, "FAQ")
    nav(page, "Contact")
    for label, value in zip(("Your name", "E-mail", "Message"), TYPED, strict=True):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**/demo/contact/thanks")
    away(visit)

    # Third visit: prices once more, then a desk, the cart, and the shipping cost.
    page.goto(f"{origin}/demo/")
    nav(page, "Pricing")
    screenshot(page, "2-pricing")
    nav(page, "Products")
    page.get_by_role("link", name="Walnut desk").click()
    page.get_by_role("link", name="Add to cart").click()
    visit.idle(1500)  # a look at the cart: the snippet reports the step after a second
    page.get_by_role("link", name="Continue to shipping").click()
    page.wait_for_url("**/demo/checkout/shipping?item=walnut-desk")
    assert page.locator("strong.shipping-cost").inner_text() == "39.00 €"
    rows = visit.stored(
        lambda rows: (
            len(pricing_visits(rows)) == 3
            and any(r["type"] == "step" and r["name"] == "shipping" for r in rows)
        ),
        visitor_key=subject,
    )
    screenshot(page, "3-shipping")

    # What the store holds: three pricing views half an hour apart, all linked to the
    # visitor; field names of the message, never what was typed.
    times = pricing_visits(rows)
    assert len(times) == 3
    assert all(later - earlier > timedelta(minutes=30) for earlier, later in pairwise(times))
    assert {r["identity"] for r in rows} == {"analytics"}
    submitted = [r for r in rows if r["type"] == "form_submit"]
    assert [r["props"]["fields"] for r in submitted] == ["name,email,message"]
    assert [r["name"] for r in rows if r["type"] == "step"] == ["cart", "shipping"]
    sent = [entry["body"] for entry in visit.collector.received()]
    kept = visit.collector.everything_kept()
    for value in TYPED:
        assert all(value not in body for body in sent)
        assert value not in kept

    # "Run jobs now", with the keyboard, from the shipping page.
    tab_to(page, "run-jobs")
    page.keyboard.press("Enter")
    page.wait_for_url("**/demo/run-jobs?back=*")
    assert "all succeeded" in page.locator("#jobs-summary").inner_text()
    check_basics(page, f"The jobs ran — {SHOP}")
    screenshot(page, "4-jobs")
    price = signal(visit, subject, "price_uncertainty")
    assert price is not None
    assert price["value"] == 3
    assert len(price["evidence"]) == 3
    assert signal(visit, subject, "shipping_cost_shock") is not None

    # Nothing in the shop's pages was refused or failed to load (Chrome says that it
    # ignores the opener policy on plain HTTP: the header is for the site over HTTPS).
    assert [e for e in visit.console_errors if "Cross-Origin-Opener-Policy" not in e] == []

    # "What do you know about me?": the signals, explained, with their evidence.
    page.get_by_role("link", name="What do you know about me?").first.click()
    page.wait_for_url("**/me?site=demo")
    check_signal_explained(
        page,
        "price_uncertainty",
        "Price uncertainty",
        "You opened the pricing page on 3 visits between",
        evidence=3,
    )
    check_signal_explained(
        page,
        "shipping_cost_shock",
        "Shipping-cost shock",
        "after the shipping costs were shown",
    )
    assert "under notice version 1" in page.locator("#consent-summary").inner_text()
    screenshot(page, "5-me", page.locator("#signals-section"))
    consents = visit.collector.store.rows(
        "SELECT method, analytics, personalization FROM consent_records "
        "WHERE visitor_key = {key:String}",
        {"key": subject},
    )
    assert [tuple(map(str, row)) for row in consents] == [("banner", "True", "True")]
    assert visit.errors == []


def test_every_shop_page_has_the_accessibility_basics(make_visit: Callable[..., Visit]) -> None:
    visit = make_visit(init_script=PERSON)
    page, origin = visit.page, visit.collector.origin
    for path, title in PAGES.items():
        page.goto(f"{origin}{path}")
        page.locator("#consent-banner").wait_for(state="visible")  # no decision yet
        check_basics(page, f"{title} — {SHOP}")
        assert unreachable_by_keyboard(page) == [], path
        assert page.get_by_role("link", name="What do you know about me?").is_visible()
        assert page.get_by_role("button", name="Run jobs now").is_visible()
    # The banner by keyboard alone: decline, and it stays closed on the next page.
    tab_to(page, "decline")
    page.keyboard.press("Enter")
    page.locator("#consent-banner").wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.goto(f"{origin}/demo/faq")
    page.locator("#privacy-choices").wait_for(state="visible")
    assert page.locator("#consent-banner").is_hidden()
    assert "cs_id" not in visit.storage()
    # "Privacy choices" opens it again, focused on its first choice.
    tab_to(page, "privacy-choices")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "accept-analytics"
    assert visit.errors == []
    assert [e for e in visit.console_errors if "Cross-Origin-Opener-Policy" not in e] == []
