"""Delivery in a real browser: batches, everything at once with fetch keepalive when the
page is hidden or goes, retries with backoff, a bounded queue; checked on what the
collector received and stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

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
    returning.stored(lambda rows: "click" in types(rows))
    first = returning.received()[0]
    assert first["content_type"] == "text/plain;charset=UTF-8"  # no CORS preflight
    assert [event["type"] for event in json.loads(first["body"])["events"]][:4] == [
        "pageview",
        "click",
        "click",
        "click",
    ]
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


# Runs `action` in the page and returns what the page asked fetch() for meanwhile:
# the snippet sends at once when the page is hidden or left, before the event returns.
FETCHED_DURING = """(action) => {
  const fetched = []
  const original = window.fetch
  window.fetch = (url, init) => {
    fetched.push({ url, keepalive: init.keepalive, body: JSON.parse(init.body) })
    return original(url, init)
  }
  try {
    new Function(action)()
  } finally {
    window.fetch = original
  }
  return fetched
}"""
CLICK = "document.getElementById('reveal').click()"  # queued: batches wait for the tick


def assert_sent_at_once_with_keepalive(visit: Visit, then: str) -> None:
    visit.open("page.html")
    visit.wait_for(lambda: any(request.status == 202 for request in visit.sent()))
    fetched = visit.page.evaluate(FETCHED_DURING, f"{CLICK}; {then}")
    (batch,) = fetched
    assert batch["url"].endswith(EVENTS)
    assert batch["keepalive"] is True  # it may outlive the page
    assert "click" in [event["type"] for event in batch["body"]["events"]]
    assert "click" in types(visit.stored(lambda rows: "click" in types(rows)))


def test_pagehide_sends_the_queue_at_once_with_fetch_keepalive(returning: Visit) -> None:
    # Browsers also report the page hidden on the way out; here only pagehide comes.
    assert_sent_at_once_with_keepalive(
        returning, "dispatchEvent(new PageTransitionEvent('pagehide'))"
    )


def test_a_hidden_page_sends_its_queue_at_once_with_fetch_keepalive(returning: Visit) -> None:
    # Headless chromium keeps a page visible: make it report hidden, as on a tab switch.
    assert_sent_at_once_with_keepalive(
        returning,
        "Object.defineProperty(document, 'hidden', { value: true, configurable: true });"
        "document.dispatchEvent(new Event('visibilitychange'))",
    )


def test_leaving_the_page_delivers_what_was_queued(returning: Visit) -> None:
    returning.open("page.html")
    returning.wait_for(lambda: any(request.status == 202 for request in returning.sent()))
    returning.page.click("#reveal")  # queued: batches wait for the next tick
    returning.leave()  # at once
    rows = returning.stored(lambda rows: "click" in types(rows))
    assert "click" in types(rows)
    (sent,) = [entry for entry in returning.received() if '"click"' in entry["body"]]
    assert sent["status"] == 202
    assert sent["content_type"] == "text/plain;charset=UTF-8"


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
    faults.inject_faults(EVENTS, [400])
    returning.open("page.html")
    returning.wait_for(lambda: any(request.status == 400 for request in returning.sent()))
    returning.idle(2500)  # longer than the first retry would wait
    attempts = [entry for entry in returning.received() if '"pageview"' in entry["body"]]
    assert [entry["status"] for entry in attempts] == [400]
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
    returning.page.evaluate("() => { window.fetch = () => new Promise(() => {}) }")
