"""The on-demand piece (cs-more.js) in a real browser: loaded by cs.js only where a page
needs it (a visitor with a grant, a decision to record, a CMP, no Navigation API),
pinned by the hash the build wrote into cs.js, and allowed by a strict CSP. Also the
consent log's key that the tag names (data-log-key), kept with a grant."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.browser.harness import NO_NAVIGATION_API, Visit, types

LOG_KEY = "shop.test/consent-log+0a1b2c3d+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg="


def piece_requests(visit: Visit) -> list[str]:
    return [url for url in visit.urls if "/cs-more." in url]


def test_a_page_without_a_grant_never_requests_it(visit: Visit) -> None:
    visit.open("page.html")
    for element in ("#reveal", "#outbound", "#manual"):
        visit.page.click(element)
    visit.page.evaluate("clearsignal.track('seen'); clearsignal.track('empty', null)")
    sent = visit.wait_sent(
        lambda events: (
            types(events).count("custom") == 2 and {"outbound", "download"} <= set(types(events))
        )
    )
    visit.settled()
    assert piece_requests(visit) == []
    # Without a grant an element is described by its structure, not its text.
    (outbound,) = [event for event in sent if event["type"] == "outbound"]
    assert outbound["el"] == {"tag": "a", "id": "outbound", "href": outbound["el"]["href"]}
    assert "click" not in types(visit.sent_events())
    # A custom event without props, or with null, carries none.
    customs = [event for event in sent if event["type"] == "custom"]
    assert [(event["name"], "props" in event) for event in customs] == [
        ("seen", False),
        ("empty", False),
    ]


def test_a_browser_without_the_navigation_api_loads_it_for_navigations(
    make_visit: Callable[..., Visit],
) -> None:
    visit = make_visit(init_script=NO_NAVIGATION_API)
    visit.open("page.html")
    visit.wait_for(lambda: bool(piece_requests(visit)))
    assert visit.page.evaluate("!history.pushState.toString().includes('[native code]')")


def test_a_visitor_with_a_grant_gets_the_pinned_piece_once(
    returning: Visit, snippet_dir: Path
) -> None:
    returning.open("form.html")
    returning.page.fill("input[name=email]", "someone@example.com")
    returning.page.fill("#card-number", "4242")
    returning.page.fill("input[name=subscriber]", "someone")
    sent = returning.wait_sent(lambda events: types(events).count("form_start") == 2)
    starts = [event["props"] for event in sent if event["type"] == "form_start"]
    assert starts == [
        {"form": "checkout-form", "fields": "email"},
        {"form": "newsletter", "fields": "subscriber"},
    ]
    piece = (snippet_dir / "cs-more.js").read_bytes()
    version = hashlib.sha256(piece).hexdigest()[:16]
    (url,) = piece_requests(returning)
    assert url == f"{returning.collector.origin}/cs-more.{version}.js"
    script: dict[str, Any] = returning.page.evaluate(
        """() => {
            const script = document.querySelector('script[src*="/cs-more."]')
            return { integrity: script.integrity, crossOrigin: script.crossOrigin }
        }"""
    )
    digest = base64.b64encode(hashlib.sha256(piece).digest()).decode()
    assert script == {"integrity": f"sha256-{digest}", "crossOrigin": "anonymous"}


def test_a_piece_with_other_bytes_is_refused_and_a_withdrawal_still_holds(
    returning: Visit,
) -> None:
    collector = returning.collector

    def tampered(route: Any) -> None:
        # Fetched from the collector as it is (shop.test is chromium's name for it only).
        original = route.fetch(url=route.request.url.replace(collector.origin, collector.loopback))
        route.fulfill(response=original, body=original.text() + "\nwindow.tampered = 1\n")

    returning.context.route("**/cs-more.*.js", tampered)
    returning.open("form.html")
    returning.page.fill("input[name=email]", "someone@example.com")
    returning.wait_for(lambda: bool(piece_requests(returning)))
    returning.settled()
    assert returning.page.evaluate("window.tampered") is None
    assert "form_start" not in types(returning.sent_events())
    assert any("integrity" in error for error in returning.console_errors)
    # Nothing can be recorded without the piece, but a withdrawal takes effect here.
    assert returning.storage()["cs_id"]
    assert returning.page.evaluate("clearsignal.optOut()") is None
    assert returning.storage() == {}
    returning.page.evaluate("clearsignal.track('after')")
    returning.wait_sent(lambda events: "custom" in types(events))
    (after,) = [r for r in returning.sent() if "custom" in types(r.body["events"])]
    assert after.body["visitor"] is None


def test_the_snippet_and_its_piece_run_under_a_strict_csp(returning: Visit) -> None:
    returning.open("strict-csp.html")
    returning.page.fill("input[name=subscriber]", "someone")
    sent = returning.wait_sent(lambda events: "form_start" in types(events))
    assert "pageview" in types(sent)
    assert piece_requests(returning)
    policy_errors = [e for e in returning.console_errors if "Content Security Policy" in e]
    assert policy_errors == []


def test_the_tags_log_key_is_kept_with_a_grant_and_not_before(visit: Visit) -> None:
    visit.open("page.html", data_log_key=LOG_KEY)
    visit.idle(300)
    assert visit.storage() == {}  # nothing before a grant
    visit.page.evaluate("clearsignal.consent({ analytics: true })")
    visit.wait_for(lambda: "cs_receipt" in visit.storage())
    assert visit.storage()["cs_log_key"] == LOG_KEY
