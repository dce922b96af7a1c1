"""Auto-capture in a real browser: what the snippet sends for what a visitor does, and
what the collector stores of it.

The visits here come from a returning visitor (a browser id from an earlier grant),
so interaction events are sent (by the piece cs.js loads for them); the consent rules
are in test_consent.py.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.browser.harness import RETURNING_VISITOR, Rows, Visit, types


def of_type(rows: Rows, event_type: str) -> Rows:
    return [row for row in rows if row["type"] == event_type]


def test_page_load_sends_a_pageview_that_is_stored(returning: Visit) -> None:
    returning.open("page.html")
    rows = returning.stored(lambda rows: "pageview" in types(rows))
    pageview = of_type(rows, "pageview")
    assert len(pageview) == 1
    # Stored without the query string (only utm_* parameters are kept).
    assert pageview[0]["path"] == f"/fixtures/{returning.run}/page.html"
    assert pageview[0]["url"].endswith(f"/fixtures/{returning.run}/page.html")


def test_single_page_app_navigation_sends_pageviews(returning: Visit) -> None:
    returning.open("spa.html")
    page = returning.page
    page.click("#go-pricing")  # pushState
    page.click("#go-faq")  # pushState; the app renders a funnel step there
    returning.idle(1500)  # a page's steps are looked for a second after its pageview
    page.click("#redirect")  # replaceState to another URL
    page.click("#anchor")  # only the fragment changes: the same page
    page.go_back()  # popstate back to .../plans, without the fragment: the same page
    page.go_back()  # popstate to .../pricing
    rows = returning.stored(lambda rows: len(of_type(rows, "pageview")) >= 5)
    paths = [row["path"].rsplit("/", 1)[1] for row in of_type(rows, "pageview")]
    assert paths == ["spa.html", "pricing", "faq", "plans", "pricing"]
    (step,) = of_type(rows, "step")
    assert step["name"] == "help-read"
    assert step["path"].endswith("/faq")


def test_clicks_are_sent_with_a_safe_element_descriptor(returning: Visit) -> None:
    returning.open("page.html")
    for element in ("#reveal", "#icon", "#nothing", "#to-checkout"):
        returning.page.click(element)
    rows = returning.stored(lambda rows: len(of_type(rows, "click")) >= 4)
    clicks = {row["element"]["id"]: row["element"] for row in of_type(rows, "click")}
    assert clicks["reveal"] == {
        "tag": "button",
        "sel": "#reveal",
        "id": "reveal",
        # Whitespace collapsed, trimmed.
        "label": "Show shipping costs",
    }
    assert clicks["icon"]["label"] == "Add to wishlist"  # aria-label
    assert clicks["nothing"]["cs-kind"] == "decoy"  # data-cs-* attributes
    assert clicks["to-checkout"]["cs-step"] == "checkout"


def test_outbound_links_and_downloads_get_their_own_types(returning: Visit) -> None:
    returning.open("page.html")
    for link in ("#outbound", "#manual", "#export"):
        returning.page.click(link)
    rows = returning.stored(lambda rows: len(of_type(rows, "download")) >= 2)
    (outbound,) = of_type(rows, "outbound")
    assert outbound["element"]["href"] == "http://elsewhere.test/review"  # query scrubbed
    downloads = {row["element"]["id"] for row in of_type(rows, "download")}
    assert downloads == {"manual", "export"}  # a .pdf link; a link with download
    assert of_type(rows, "click") == []


# A burst of clicks on #spot at these points, all within one task: how fast a loaded
# machine delivers Playwright's clicks does not decide whether they are a burst.
BURST = """points => {
  const spot = document.getElementById('spot')
  for (const [x, y] of points)
    spot.dispatchEvent(new MouseEvent('click', { clientX: x, clientY: y, bubbles: true }))
}"""


def test_three_quick_clicks_in_one_spot_make_exactly_one_rage_click(returning: Visit) -> None:
    returning.open("page.html")
    page = returning.page
    box = page.locator("#spot").bounding_box()
    x, y = box["x"] + 50, box["y"] + 50
    page.mouse.dblclick(x, y)  # two clicks are no rage
    returning.idle(1200)  # a pause: a new burst
    # five clicks, each within 30 px of the one before
    page.evaluate(BURST, [[x + step * 10, y + step * 5] for step in range(5)])
    returning.idle(1200)
    page.evaluate(BURST, [[x + step, y] for step in range(3)])
    returning.idle(300)
    # clicks far apart are no burst
    page.evaluate(BURST, [[x + 40 * step, y] for step in range(3)])
    returning.stored(lambda rows: len(of_type(rows, "rage_click")) >= 2)
    returning.idle(1500)
    rage = of_type(returning.stored(), "rage_click")
    assert len(rage) == 2
    # A plain element: structure only, no text.
    assert rage[0]["element"] == {"tag": "div", "sel": "#spot", "id": "spot"}


def test_a_click_that_changes_nothing_is_a_dead_click(returning: Visit) -> None:
    returning.open("page.html")
    returning.page.click("#nothing")
    returning.idle(3000)
    returning.page.click("#reveal")  # changes the status line: not dead
    returning.idle(3000)
    rows = returning.stored(lambda rows: len(of_type(rows, "click")) >= 2)
    dead = of_type(rows, "dead_click")
    assert [row["element"]["id"] for row in dead] == ["nothing"]


# Before the page's scripts: every MutationObserver that the snippet (cs.js or its piece)
# started and that is observing, in a set (Playwright's own script observes the page too).
WATCH_OBSERVERS = """
window.observing = new Set()
window.MutationObserver = class extends MutationObserver {
  observe(...args) {
    if (/\\/cs(-more\\.\\w+)?\\.js/.test(new Error().stack)) observing.add(this)
    return super.observe(...args)
  }
  disconnect() {
    observing.delete(this)
    return super.disconnect()
  }
}
"""


def test_the_dom_is_observed_only_while_a_dead_click_check_is_pending(
    make_visit: Callable[..., Visit],
) -> None:
    visit = make_visit(init_script=f"{RETURNING_VISITOR}; {WATCH_OBSERVERS}")
    visit.open("page.html")
    visit.settled()
    observing = "() => observing.size"
    assert visit.page.evaluate(observing) == 0  # nothing to check: the page costs nothing
    visit.page.click("#nothing")
    visit.page.click("#icon")  # neither changes anything
    assert visit.page.evaluate(observing) == 2  # a check per click, each its own
    visit.wait_for(lambda: visit.page.evaluate(observing) == 0, timeout=5)
    rows = visit.stored(lambda rows: len(of_type(rows, "dead_click")) >= 2)
    assert sorted(row["element"]["id"] for row in of_type(rows, "dead_click")) == [
        "icon",
        "nothing",
    ], [(entry["status"], entry["body"][:300]) for entry in visit.received()]
    assert visit.errors == []


def test_form_abandon_reports_field_names_and_never_a_typed_value(returning: Visit) -> None:
    typed = ("s3cret-typed-value@example.com", "4242424242424242", "call me at night")
    returning.open("form.html")
    page = returning.page
    page.fill("input[name=email]", typed[0])
    page.fill("#card-number", typed[1])
    page.fill("textarea[name=note]", typed[2])
    page.select_option("select[name=plan]", "pro")
    returning.leave()
    rows = returning.stored(lambda rows: bool(of_type(rows, "form_abandon")))
    (start,) = of_type(rows, "form_start")
    (abandon,) = of_type(rows, "form_abandon")
    assert start["props"] == {"form": "checkout-form", "fields": "email"}
    assert abandon["props"] == {"form": "checkout-form", "fields": "email,card-number,note,plan"}
    # Never a value: not in anything sent, nowhere the collector keeps anything.
    sent = " ".join(entry["body"] for entry in returning.received())
    kept = returning.collector.everything_kept()
    assert returning.run in kept  # the search does look where this visit's events are
    for value in typed:
        assert value not in sent
        assert value not in kept


def test_a_submitted_form_is_not_abandoned(returning: Visit) -> None:
    returning.open("form.html")
    returning.page.fill("input[name=email]", "someone@example.com")
    returning.page.click("#pay")
    returning.page.wait_for_selector("text=paid")
    returning.leave()
    rows = returning.stored(lambda rows: bool(of_type(rows, "form_submit")))
    returning.idle(1500)
    rows = returning.stored()
    (submit,) = of_type(rows, "form_submit")
    assert submit["props"] == {"form": "checkout-form", "fields": "email"}
    assert of_type(rows, "form_abandon") == []


def test_scroll_depth_and_engaged_time_are_sent_when_the_page_is_left(returning: Visit) -> None:
    returning.open("page.html")
    returning.page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    returning.idle(2500)  # visible and focused: engaged
    returning.leave()
    rows = returning.stored(lambda rows: bool(of_type(rows, "engagement")))
    (scroll,) = of_type(rows, "scroll")
    (engagement,) = of_type(rows, "engagement")
    assert int(scroll["props"]["depth"]) >= 99
    assert int(engagement["props"]["ms"]) >= 2000


def test_funnel_steps_come_from_elements_and_clicks(returning: Visit) -> None:
    returning.open("page.html")
    returning.page.click("#to-checkout")
    rows = returning.stored(lambda rows: len(of_type(rows, "step")) >= 2)
    steps = {row["name"]: row["element"] for row in of_type(rows, "step")}
    assert steps["cart"] == {}  # on the page: no element detail
    assert steps["checkout"]["id"] == "to-checkout"  # clicked


def test_data_auto_turns_capture_families_off(returning: Visit) -> None:
    returning.open("page.html", data_auto="pageview")
    returning.page.click("#reveal")
    returning.page.evaluate("clearsignal.track('opened_chat')")  # custom: always on
    returning.leave()
    returning.stored(lambda rows: len(rows) >= 2)
    returning.idle(1500)
    assert sorted(types(returning.stored())) == ["custom", "pageview"]
