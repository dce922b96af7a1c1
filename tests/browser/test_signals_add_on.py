"""The opt-in signals add-on (cs-signals.js) in a real browser: clearsignal.signals()
returns a visitor's own signals only with their personalization consent."""

from __future__ import annotations

from typing import Any

from tests.browser.harness import NOTICE_VERSION, Visit, types

SIGNALS = "/api/visitor/signals"


def signals(visit: Visit) -> Any:
    return visit.page.evaluate("clearsignal.signals()")


def consent(visit: Visit, *, personalization: bool) -> Any:
    return visit.page.evaluate(
        "([personalization, notice]) => "
        "clearsignal.consent({ analytics: true, personalization }, notice)",
        [personalization, NOTICE_VERSION],
    )


def open_page(visit: Visit) -> None:
    visit.open("signals.html")
    visit.page.wait_for_function("() => typeof clearsignal.signals === 'function'")


def test_without_a_browser_id_signals_are_empty_and_nothing_is_asked(visit: Visit) -> None:
    open_page(visit)
    assert signals(visit) == []
    assert visit.sent(SIGNALS) == []


def test_without_personalization_consent_the_collector_refuses(visit: Visit) -> None:
    open_page(visit)
    consent(visit, personalization=False)
    assert signals(visit) == []
    (asked,) = visit.sent(SIGNALS)
    visit.wait_for(lambda: asked.status is not None)
    assert asked.status == 403
    assert asked.body == {"site": "demo", "visitor": visit.storage()["cs_id"]}


def test_a_consented_visitors_rage_clicks_come_back_as_a_signal(visit: Visit) -> None:
    open_page(visit)
    receipt = consent(visit, personalization=True)
    mouse = visit.page.mouse
    box = visit.page.locator("#spot").bounding_box()
    for burst in range(2):  # two rage clicks in one visit: the rule's threshold
        for step in range(3):
            mouse.click(box["x"] + 20 + step, box["y"] + 20)
        visit.idle(1200 if burst == 0 else 0)
    rows = visit.stored(lambda rows: types(rows).count("rage_click") == 2)
    assert {row["visitor_key"] for row in rows if row["type"] == "rage_click"} == {
        receipt["subject"]
    }
    visit.collector.run_jobs("signals.compute")
    (found,) = [signal for signal in signals(visit) if signal["rule_id"] == "rage_clicks"]
    assert found["title"] == "Frustration: rage clicks"
    assert found["value"] >= 2
    assert found["why"]
    assert found["may_do"]
    assert visit.sent(SIGNALS)[-1].status == 200
