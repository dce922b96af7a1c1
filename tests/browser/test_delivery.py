"""Delivery in a real browser: batches, retries with backoff, a bounded queue, and
sendBeacon when the page is hidden or goes (the batch waiting for its retry too);
checked on what the collector received and stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.harness import Collector, Visit, types

EVENTS = "/api/events"


@pytest.fixture
def faults(collector: Collector) -> Iterator[Collector]:
    """The collector, with no injected fault left over for the next test."""
    yield collector
    collector.inject_faults(EVENTS, [], clear=True)


def test_events_go_in_batches_as_text_plain_json(returning: Visit) -> None:
    returning.open("page.html")
    for element in ("#reveal", "#icon", "#to-checkout"):
        returning.page.click(element)  # within the first second: one batch with the pageview
    returning.stored(lambda rows: types(rows).count("click") >= 3)
    received = returning.received()
    assert all(r["content_type"] == "text/plain;charset=UTF-8" for r in received)  # no preflight
    batches = [[event["type"] for event in json.loads(r["body"])["events"]] for r in received]
    # The pageview and what follows within a second share a batch; the section seen as a
    # "cart" step comes whenever the browser reports it in view, so only clicks are ordered.
    assert batches[0][0] == "pageview"
    assert "click" in batches[0]
    sent = [kind for batch in batches for kind in batch if kind in ("pageview", "click")]
    assert sent[:4] == ["pageview", "click", "click", "click"]
    assert all(request.resource_type == "fetch" for request in returning.sent())


def test_twenty_queued_events_are_sent_at_once(returning: Visit) -> None:
    returning.open("page.html")
    returning.settled()
    before = len(returning.sent())
    returning.page.evaluate("for (let i = 0; i < 25; i++) clearsignal.track('tick', { i })")
    returning.wait_for(lambda: len(returning.sent()) >= before + 2)
    # The twentieth goes at once with the nineteen before it; the rest a second later.
    sizes = [len(request.body["events"]) for request in returning.sent()[before:]]
    assert sizes == [20, 5]
    rows = returning.stored(lambda rows: types(rows).count("custom") == 25)
    assert types(rows).count("custom") == 25


# Runs `action` in the page and returns what the page handed to sendBeacon and asked
# fetch() for meanwhile: the snippet sends at once when the page is hidden or left,
# before the event returns.
SENT_DURING = """(action) => {
  const sent = { beacons: [], fetched: [] }
  const { sendBeacon } = navigator
  const { fetch } = window
  navigator.sendBeacon = (url, body) => {
    sent.beacons.push({ url, body: JSON.parse(body) })
    return sendBeacon.call(navigator, url, body)
  }
  window.fetch = (url, init) => {
    sent.fetched.push({ url, body: JSON.parse(init.body) })
    return fetch(url, init)
  }
  try {
    new Function(action)()
  } finally {
    navigator.sendBeacon = sendBeacon
    window.fetch = fetch
  }
  return sent
}"""
CLICK = "document.getElementById('reveal').click()"  # queued: batches wait for the tick
# Browsers also report the page hidden on the way out; here only pagehide comes.
PAGEHIDE = "dispatchEvent(new PageTransitionEvent('pagehide'))"
# Headless chromium keeps a page visible: make it report hidden, as on a tab switch.
HIDDEN = (
    "Object.defineProperty(document, 'hidden', { value: true, configurable: true });"
    "document.dispatchEvent(new Event('visibilitychange'))"
)
PAGE_GOES = pytest.mark.parametrize("goes", [PAGEHIDE, HIDDEN], ids=["pagehide", "hidden"])


def beacon_types(beacon: dict[str, Any]) -> list[str]:
    return [event["type"] for event in beacon["body"]["events"]]


def pageview_statuses(visit: Visit) -> list[int | None]:
    """What the collector answered to each batch with this visit's pageview."""
    return [entry["status"] for entry in visit.received() if '"pageview"' in entry["body"]]


def open_with_first_batch_answered(visit: Visit, faults: Collector, status: int) -> None:
    """Opens page.html with the collector answering its first batch (the pageview) with
    ``status``, and waits until the page has that answer."""
    faults.inject_faults(EVENTS, [status])
    visit.open("page.html")
    visit.wait_for(lambda: any(request.status == status for request in visit.sent()))


@PAGE_GOES
def test_a_page_that_goes_hands_its_queue_to_send_beacon_at_once(
    returning: Visit, goes: str
) -> None:
    returning.open("page.html")
    returning.wait_for(lambda: any(request.status == 202 for request in returning.sent()))
    sent = returning.page.evaluate(SENT_DURING, f"{CLICK}; {goes}")
    assert sent["fetched"] == []
    (beacon,) = sent["beacons"]
    assert beacon["url"].endswith(EVENTS)
    assert "click" in beacon_types(beacon)
    assert "click" in types(returning.stored(lambda rows: "click" in types(rows)))
    (delivered,) = [entry for entry in returning.received() if '"click"' in entry["body"]]
    assert delivered["status"] == 202
    assert delivered["content_type"] == "text/plain;charset=UTF-8"  # no CORS preflight


def test_leaving_the_page_hands_the_queue_to_send_beacon(returning: Visit) -> None:
    returning.open("page.html")
    returning.wait_for(lambda: any(request.status == 202 for request in returning.sent()))
    returning.page.click("#reveal")  # queued: batches wait for the next tick
    returning.leave()  # at once
    rows = returning.stored(lambda rows: "click" in types(rows))
    assert "click" in types(rows)
    delivered = [entry for entry in returning.received() if '"click"' in entry["body"]]
    assert delivered
    assert all(entry["status"] == 202 for entry in delivered)
    # Not a fetch of the page's: the beacon may even leave after the page has gone.
    fetched = [request for request in returning.sent() if request.resource_type == "fetch"]
    assert all("click" not in json.dumps(request.body) for request in fetched)


@PAGE_GOES
def test_a_batch_waiting_for_its_retry_goes_to_send_beacon_with_the_queue(
    returning: Visit, faults: Collector, goes: str
) -> None:
    # The first batch (the pageview) waits 1 to 2 s for its retry; the click waits
    # behind it.
    open_with_first_batch_answered(returning, faults, 500)
    sent = returning.page.evaluate(SENT_DURING, f"{CLICK}; {goes}")
    assert sent["fetched"] == []
    waiting, queued = sent["beacons"]
    assert "pageview" in beacon_types(waiting)
    assert "click" in beacon_types(queued)
    # The page is still there, so the retry comes too: the collector keeps each event
    # once all the same.
    returning.wait_for(lambda: len(pageview_statuses(returning)) == 3)
    rows = returning.stored(lambda rows: {"pageview", "click"} <= set(types(rows)))
    assert types(rows).count("pageview") == 1
    returning.wait_for(lambda: None not in pageview_statuses(returning))
    assert pageview_statuses(returning) == [500, 202, 202]  # the beacon, then the retry


def test_leaving_delivers_the_batch_waiting_for_its_retry(
    returning: Visit, faults: Collector
) -> None:
    open_with_first_batch_answered(returning, faults, 500)
    returning.leave()  # before the retry: its timer goes with the page
    rows = returning.stored(lambda rows: "pageview" in types(rows))
    assert types(rows).count("pageview") == 1
    statuses = pageview_statuses(returning)
    assert statuses[0] == 500
    assert 202 in statuses[1:]


@pytest.mark.parametrize("statuses", [[429], [503, 500]], ids=["429", "503-then-500"])
def test_a_refused_batch_is_retried_with_backoff_and_stored_once(
    returning: Visit, faults: Collector, statuses: list[int]
) -> None:
    faults.inject_faults(EVENTS, statuses)
    returning.open("page.html")
    rows = returning.stored(lambda rows: "pageview" in types(rows), timeout=30)
    attempts = [entry for entry in returning.received() if '"pageview"' in entry["body"]]
    assert [entry["status"] for entry in attempts] == [*statuses, 202]
    assert len({entry["body"] for entry in attempts}) == 1  # the same batch, the same ids
    (pageview,) = [row for row in rows if row["type"] == "pageview"]
    copies = faults.store.scalar(
        "SELECT count() FROM events WHERE event_id = {id:String}", {"id": pageview["event_id"]}
    )
    assert copies == 1
    http = [line.split()[3] for line in returning.debug if line.startswith("[clearsignal] http")]
    assert http[: len(statuses) + 1] == [str(status) for status in [*statuses, 202]]


def test_a_batch_the_collector_rejects_as_invalid_is_not_retried(
    returning: Visit, faults: Collector
) -> None:
    open_with_first_batch_answered(returning, faults, 400)
    returning.idle(2500)  # longer than the first retry would wait
    assert pageview_statuses(returning) == [400]
    assert "[clearsignal] http /api/events 400" in returning.debug


def test_the_queue_is_bounded_while_the_collector_is_down(
    returning: Visit, faults: Collector
) -> None:
    returning.open("page.html")
    returning.settled()
    faults.inject_faults(EVENTS, [503] * 3)
    returning.page.evaluate("clearsignal.track('first')")
    returning.wait_for(lambda: any(request.status == 503 for request in returning.sent()))
    # That batch waits for its retry; everything else queues, up to 500 events.
    returning.page.evaluate("for (let i = 0; i < 530; i++) clearsignal.track('tick', { i })")
    returning.idle(200)
    assert returning.reasons().count("queue_full") == 30  # the oldest, one per event over
    assert returning.page.evaluate("clearsignal.track('still_working')") is None
    # These events are not for the store: the collector's rate limit is per visitor, and
    # the tests that follow send as the same anonymous one.
    returning.page.evaluate(
        "() => { window.fetch = () => new Promise(() => {}); navigator.sendBeacon = () => true }"
    )
