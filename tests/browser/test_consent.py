"""Consent in a real browser: nothing of the visitor's before a grant, every reason not
to send named in debug mode, and a grant and a withdrawal through /api/consent down to
what the collector stores and erases."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.harness import NOTICE_VERSION, Visit, types

MEASUREMENT_TYPES = {"pageview", "outbound", "download", "step", "custom"}
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })"
DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })"


def act_on(visit: Visit, then_wait: float = 1500) -> None:
    """A visitor's usual doings: a click, an outbound link, a download, a custom event;
    then, by default, time for the page's funnel-step lookup and a batch."""
    page = visit.page
    for element in ("#reveal", "#outbound", "#manual"):
        page.click(element)
    page.evaluate("clearsignal.track('newsletter_shown', { variant: 'b' })")
    visit.idle(then_wait)


def test_without_consent_only_anonymous_measurement_is_sent_and_stored(visit: Visit) -> None:
    visit.open("page.html")
    act_on(visit)
    assert visit.storage() == {}
    assert visit.context.cookies() == []
    visit.leave()
    rows = visit.stored(lambda rows: {"custom", "step"} <= set(types(rows)))
    assert set(types(rows)) == MEASUREMENT_TYPES
    assert {row["identity"] for row in rows} == {"measurement"}
    # No browser id in anything sent; the interaction detail is not even captured: the
    # piece that captures it is not loaded without a grant.
    assert visit.received()
    assert all(json.loads(entry["body"])["visitor"] is None for entry in visit.received())
    assert "click" not in {event["type"] for event in visit.received_events()}
    assert not [url for url in visit.urls if "/cs-more." in url]


@pytest.mark.parametrize(
    ("reason", "tag", "init_script", "headers", "loopback"),
    [
        pytest.param("gpc", {}, GPC, {"Sec-GPC": "1"}, False, id="gpc"),
        pytest.param("dnt", {}, DNT, {"DNT": "1"}, False, id="dnt"),
        pytest.param("automation", {"data_allow_automation": None}, None, {}, False, id="auto"),
        pytest.param("localhost", {}, None, {}, True, id="localhost"),
        pytest.param("strict", {"data_strict": ""}, None, {}, False, id="strict"),
        pytest.param("no_site", {"data_site": None}, None, {}, False, id="no-site"),
    ],
)
def test_each_reason_not_to_send_is_named_in_debug_mode_and_nothing_is_sent(
    make_visit: Callable[..., Visit],
    reason: str,
    tag: dict[str, str | None],
    init_script: str | None,
    headers: dict[str, str],
    loopback: bool,
) -> None:
    visit = make_visit(init_script=init_script, extra_http_headers=headers)
    origin = visit.collector.loopback if loopback else None
    visit.open("page.html", origin, **tag)
    act_on(visit, then_wait=300)
    visit.leave()
    visit.idle(500)
    # Nothing left the page, nothing arrived.
    assert visit.sent() == []
    assert visit.received() == []
    assert visit.storage() == {}
    reasons = visit.reasons()
    assert reason in reasons
    # Each captured event is reported with the reason it was not sent.
    assert "event" not in reasons
    assert {"pageview", "custom"} <= {
        match[1] for line in visit.debug if (match := re.search(r"type: (\w+)", line))
    }
    assert visit.stored(timeout=0) == []


def test_a_dnt_header_alone_does_not_stop_the_snippet(make_visit: Callable[..., Visit]) -> None:
    # The snippet reads navigator.doNotTrack; the header is the collector's matter.
    visit = make_visit(extra_http_headers={"DNT": "1"})
    visit.open("page.html")
    visit.wait_sent(lambda events: "pageview" in {event["type"] for event in events})
    assert "dnt" not in visit.reasons()


def grant(visit: Visit, notice: str = NOTICE_VERSION) -> Any:
    return visit.page.evaluate(
        "notice => clearsignal.consent({ analytics: true, personalization: false }, notice)",
        notice,
    )


def test_grant_creates_the_id_keeps_the_receipt_and_stores_events_under_the_visitor_key(
    visit: Visit,
) -> None:
    visit.open("page.html")
    visit.wait_sent(lambda events: len(events) >= 1)
    assert visit.storage() == {}
    assert visit.sent()[0].body["visitor"] is None  # no browser id before the grant
    receipt = grant(visit)
    storage = visit.storage()
    browser_id = storage["cs_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", browser_id)
    assert json.loads(storage["cs_receipt"]) == receipt
    assert visit.page.evaluate("clearsignal.receipt()") == receipt
    assert receipt["kind"] == "consent"
    assert receipt["method"] == "api"  # the server's default: the snippet leaves it out
    choices = {purpose["id"]: purpose["choice"] for purpose in receipt["purposes"]}
    assert choices == {
        "measurement": "granted",
        "analytics": "granted",
        "personalization": "denied",
    }
    # The decision as the snippet sent it.
    (decision,) = visit.sent("/api/consent")
    assert decision.status == 201
    body = decision.body
    assert body["site"] == "demo"
    assert body["visitor"] == browser_id
    assert body["purposes"] == {"analytics": True, "personalization": False}
    assert body["notice_version"] == NOTICE_VERSION
    assert isinstance(body["client_ts"], int)
    # Events after the grant carry the id, and are stored under its pseudonym.
    visit.page.click("#reveal")
    rows = visit.stored(lambda rows: "click" in types(rows))
    (click,) = [row for row in rows if row["type"] == "click"]
    assert click["identity"] == "analytics"
    assert click["visitor_key"] == receipt["subject"]
    (pageview,) = [row for row in rows if row["type"] == "pageview"]
    assert pageview["identity"] == "measurement"  # captured before the grant
    # The raw id is kept nowhere on the collector's side: it is only ever hashed.
    assert browser_id not in visit.collector.everything_kept()


def test_a_grant_the_server_refuses_keeps_nothing(visit: Visit) -> None:
    visit.open("page.html")
    assert grant(visit, notice="0") is None  # not the site's current notice version
    (decision,) = visit.sent("/api/consent")
    assert decision.status == 409
    assert visit.storage() == {}
    assert any(line.startswith("[clearsignal] http /api/consent 409") for line in visit.debug)


def test_withdrawal_deletes_the_id_at_once_and_erasure_follows(visit: Visit) -> None:
    visit.open("page.html")
    granted = grant(visit)
    browser_id = visit.storage()["cs_id"]
    visit.page.click("#reveal")
    visit.stored(lambda rows: "click" in types(rows))
    store = visit.collector.store
    key = {"key": granted["subject"]}
    count = "SELECT count() FROM events WHERE visitor_key = {key:String}"
    assert store.scalar(count, key) >= 1

    withdrawal = visit.page.evaluate(f"clearsignal.optOut('{NOTICE_VERSION}')")
    assert visit.storage() == {}
    assert visit.page.evaluate("clearsignal.receipt()") is None
    assert withdrawal["kind"] == "withdrawal"
    (_, decision) = visit.sent("/api/consent")
    assert decision.body["visitor"] == browser_id  # so that the server can erase
    assert decision.body["purposes"] == {"analytics": False, "personalization": False}

    visit.page.click("#outbound")
    visit.wait_sent(lambda events: "outbound" in {event["type"] for event in events})
    assert visit.sent()[-1].body["visitor"] is None

    deadline = time.monotonic() + 60
    while store.scalar(count, key) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert store.scalar(count, key) == 0
    erasure = wait_for_erasure_receipt(visit, withdrawal["receipt_id"])
    assert erasure["kind"] == "erasure"


def wait_for_erasure_receipt(visit: Visit, receipt_id: str, timeout: float = 60) -> Any:
    url = f"{visit.collector.loopback}/api/erasures/{receipt_id}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def test_strict_site_stores_nothing_before_the_grant_and_everything_after(visit: Visit) -> None:
    visit.open("page.html", data_site="strictshop", data_strict="")
    visit.idle(1500)
    assert visit.sent() == []
    assert "strict" in visit.reasons()
    grant(visit)
    visit.page.click("#reveal")
    rows = visit.stored(lambda rows: "click" in types(rows), site="strictshop")
    assert [row["identity"] for row in rows] == ["analytics"]
    assert all(request.body["visitor"] for request in visit.sent())
