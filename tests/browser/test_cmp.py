"""The snippet reads the site's consent management platform, in a real browser: decisions
taken in Google Consent Mode or an IAB TCF CMP are recorded with method "cmp", by cs.js
and the piece it loads itself (the fixture page adds no other script of ours)."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.browser.harness import Visit

GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })"
GRANT = (
    "gtag('consent', 'update', "
    "{ analytics_storage: 'granted', ad_storage: 'denied', wait_for_update: 500 })"
)
DENY = "gtag('consent', 'update', { analytics_storage: 'denied' })"


def open_cmp_page(visit: Visit) -> None:
    visit.open("cmp.html")
    visit.page.wait_for_function("() => document.readyState === 'complete'")
    visit.idle(1200)  # a check of the CMPs has run


def test_consent_mode_defaults_are_not_a_decision(visit: Visit) -> None:
    open_cmp_page(visit)
    assert visit.sent("/api/consent") == []
    assert visit.storage() == {}


def test_the_page_loads_cs_js_and_it_loads_its_piece_for_the_cmp(visit: Visit) -> None:
    open_cmp_page(visit)
    paths = [url.split("?")[0] for url in visit.urls]
    scripts = [path.rsplit("/", 1)[1] for path in paths if path.endswith(".js")]
    # No tag to add: cs.js loads the piece with the CMP readers itself, pinned.
    assert scripts[0] == "cs.js"
    assert len(scripts) == 2
    assert re.fullmatch(r"cs-more\.[0-9a-f]{16}\.js", scripts[1])
    assert visit.page.evaluate("typeof window.__tcfapi") == "function"


def test_a_consent_mode_grant_then_denial_is_recorded_as_the_visitors_decision(
    visit: Visit,
) -> None:
    open_cmp_page(visit)
    visit.page.evaluate(GRANT)
    visit.wait_for(lambda: any(request.status for request in visit.sent("/api/consent")))
    (grant,) = visit.sent("/api/consent")
    assert grant.status == 201
    assert grant.body["method"] == "cmp"
    assert grant.body["purposes"] == {"analytics": True, "personalization": False}
    assert grant.body["notice_version"] == "1"  # the main tag's data-notice
    # The state the decision was taken from, and no other (ad_storage is not ours).
    assert grant.body["gcm"] == {"analytics_storage": "granted"}
    assert visit.storage()["cs_id"] == grant.body["visitor"]

    visit.page.evaluate(GRANT)  # the same state again: nothing new to record
    visit.page.evaluate(DENY)
    visit.wait_for(lambda: len(visit.sent("/api/consent")) == 2)
    visit.wait_for(lambda: visit.sent("/api/consent")[1].status is not None)
    denial = visit.sent("/api/consent")[1]
    assert denial.body["purposes"] == {"analytics": False, "personalization": False}
    assert denial.body["visitor"] == grant.body["visitor"]
    assert visit.storage() == {}
    visit.idle(1200)
    assert len(visit.sent("/api/consent")) == 2


TC_YES = "CQuzncAQuzncAAKACAENCWEAAIEAAAAAAAYgF5wAgAGALzAAAAAA.IPoQAwAGALzA-gAA"  # as in fixtures/cmp.html


def test_a_tcf_decision_is_recorded_with_its_tc_string(visit: Visit) -> None:
    open_cmp_page(visit)
    visit.page.evaluate("tcfDecide(true, true)")
    visit.wait_for(lambda: any(request.status for request in visit.sent("/api/consent")))
    (grant,) = visit.sent("/api/consent")
    assert grant.status == 201
    assert grant.body["method"] == "cmp"
    assert grant.body["tcf"] == TC_YES
    assert grant.body["purposes"]["analytics"] is True
    receipt = visit.page.evaluate("clearsignal.receipt()")
    assert receipt["method"] == "cmp"
    assert receipt["tcf"] == TC_YES


def test_under_gpc_a_cmp_grant_is_not_taken_as_explicit(make_visit: Callable[..., Visit]) -> None:
    visit = make_visit(init_script=GPC, extra_http_headers={"Sec-GPC": "1"})
    open_cmp_page(visit)
    visit.page.evaluate(GRANT)
    visit.page.evaluate("tcfDecide(true, true)")
    visit.idle(1500)
    assert visit.sent("/api/consent") == []
    assert visit.storage() == {}
    assert "[clearsignal] gpc cmp" in visit.debug
    # The site's own explicit question still can.
    receipt = visit.page.evaluate("clearsignal.consent({ analytics: true }, '1', 'banner')")
    assert receipt["method"] == "banner"
    assert receipt["gpc"] is True
