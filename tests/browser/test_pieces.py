"""The on-demand piece (cs-more.js) in a real browser: loaded by cs.js only where a page
needs it, pinned by the hash the build wrote into cs.js, and allowed by a strict CSP.
Also the consent log's key that the tag names (data-log-key), kept with a grant."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from tests.browser.harness import Visit, types

LOG_KEY = "shop.test/consent-log+0a1b2c3d+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg="


def piece_requests(visit: Visit) -> list[str]:
    return [url for url in visit.urls if "/cs-more." in url]


def test_a_page_that_needs_no_piece_never_requests_it(returning: Visit) -> None:
    returning.open("page.html")
    returning.page.click("#reveal")
    returning.page.evaluate("clearsignal.track('seen')")
    returning.wait_sent(lambda events: {"pageview", "click", "custom"} <= set(types(events)))
    returning.settled()
    assert piece_requests(returning) == []


def test_typing_in_a_form_loads_the_pinned_piece_once(returning: Visit, snippet_dir: Path) -> None:
    returning.open("form.html")
    assert piece_requests(returning) == []
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


def test_a_piece_with_other_bytes_is_refused(returning: Visit) -> None:
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
