"""The demo shop over HTTP: its pages and their policy, the "run jobs now" action and its
guards, and the seeded history (once, on both store backends)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from clearsignal.settings import DEMO_NOTICE_TEXT, JobSettings, Settings, StoreSettings
from collector.app import create_app
from collector.demo.run_jobs import BURST
from collector.ingest.metrics import CollectorMetrics
from collector.runtime import Services, open_runtime
from simulator.demo_seed import SEED_JOB, seed_demo
from tests.support.collector_app import app_services
from tests.support.site_requests import HEADERS, ORIGIN

OWN_ORIGIN = "http://testserver"  # TestClient's: the shop's own pages
PAGES = (
    "/demo/",
    "/demo/products",
    "/demo/products/walnut-desk",
    "/demo/pricing",
    "/demo/faq",
    "/demo/cart",
    "/demo/cart?item=oak-chair",
    "/demo/checkout/shipping?item=oak-chair",
    "/demo/checkout/payment?item=oak-chair&shipping=express",
    "/demo/checkout/complete?item=oak-chair&shipping=express",
    "/demo/contact",
    "/demo/contact/thanks",
    "/demo/privacy",
)
JOB_ORDER = [
    "consent.sequence",
    "consent.erase",
    "analytics.rollup",
    "sessions.compute",
    "signals.compute",
    "cases.open",
    "summaries.compute",
    "signals.validate",
    "alerts.check",
    "retention.purge",
    "salts.rotate",
    "digests.send",
    "webhooks.deliver",
]


class PageParts(HTMLParser):
    """What a page loads and runs: script sources, inline scripts and styles, addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self.addresses: list[str] = []
        self.steps: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self._in_script = True
            if found.get("src"):
                self.scripts.append(str(found["src"]))
        if tag == "style" or "style" in found or any(name.startswith("on") for name in found):
            self.inline_styles += 1
        self.addresses.extend(
            str(found[name]) for name in ("src", "href", "action") if found.get(name)
        )
        if found.get("data-cs-step"):
            self.steps.append(str(found["data-cs-step"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def parts(html: str) -> PageParts:
    parser = PageParts()
    parser.feed(html)
    return parser


@pytest.fixture
def chdb_settings(tmp_path: Path, chdb_dsn: str) -> Settings:
    """The embedded engine only (what the shop's pages do does not depend on the backend),
    jobs run by hand."""
    return Settings(
        data_dir=tmp_path / "data",
        store=StoreSettings(dsn=chdb_dsn, database=f"test_{uuid.uuid4().hex[:12]}"),
        jobs=JobSettings(in_process=False),
    )


@pytest.fixture
def client(chdb_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(chdb_settings)) as test_client:
        yield test_client


def run_jobs(
    client: TestClient, origin: str | None = OWN_ORIGIN, back: str = "/demo/pricing"
) -> httpx2.Response:
    headers = {"origin": origin} if origin else {}
    return client.post("/demo/run-jobs", params={"back": back}, headers=headers)


def test_every_shop_page_answers_under_a_strict_content_security_policy(
    client: TestClient,
) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        policy = response.headers["content-security-policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'"):
            assert directive in policy, path
        assert response.headers["referrer-policy"] == "same-origin"
        page = parts(response.text)
        assert page.scripts == ["/cs.js", "/cs-signals.js", "/demo/shop.js"], path
        assert (page.inline_scripts, page.inline_styles) == (0, 0), path
        assert all(a.startswith(("/", "#")) for a in page.addresses), (path, page.addresses)
        assert '<script defer src="/cs.js" data-site="demo" data-notice="1"' in response.text


def test_the_checkout_pages_mark_their_funnel_steps(client: TestClient) -> None:
    steps = {path: parts(client.get(path).text).steps for path in PAGES}
    assert steps["/demo/cart?item=oak-chair"] == ["cart"]
    assert steps["/demo/checkout/shipping?item=oak-chair"] == ["shipping"]
    assert steps["/demo/checkout/payment?item=oak-chair&shipping=express"] == ["payment"]
    assert steps["/demo/checkout/complete?item=oak-chair&shipping=express"] == ["purchase"]
    assert steps["/demo/cart"] == []  # an empty cart is no funnel step
    shipping = client.get("/demo/checkout/shipping", params={"item": "walnut-desk"}).text
    assert '<strong class="shipping-cost">39.00 €</strong>' in shipping


def test_the_privacy_page_shows_the_notice_text_and_version_consent_is_recorded_under(
    client: TestClient,
) -> None:
    page = client.get("/demo/privacy").text
    assert DEMO_NOTICE_TEXT in page
    assert "Version 1" in page


def test_a_newcomer_at_the_root_is_sent_to_the_shop(client: TestClient) -> None:
    for path in ("/", "/demo"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (302, "/demo/")


def test_forms_and_unknown_pages_lead_where_a_shopper_expects(client: TestClient) -> None:
    paid = client.post(
        "/demo/checkout/complete?item=oak-chair&shipping=express", follow_redirects=False
    )
    assert paid.status_code == 303
    assert paid.headers["location"] == "/demo/checkout/complete?item=oak-chair&shipping=express"
    sent = client.post("/demo/contact", follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, "/demo/contact/thanks")
    no_item = client.get("/demo/checkout/shipping", follow_redirects=False)
    assert (no_item.status_code, no_item.headers["location"]) == (303, "/demo/cart")
    assert client.get("/demo/products/no-such-thing").status_code == 404


def test_the_banner_script_and_style_sheet_are_served_from_the_shop(client: TestClient) -> None:
    script = client.get("/demo/shop.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "clearsignal.consent(" in script.text
    style = client.get("/demo/shop.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert "@import" not in style.text
    assert "url(" not in style.text


def test_without_demo_mode_there_is_no_shop_and_no_run_jobs(chdb_settings: Settings) -> None:
    settings = chdb_settings.model_copy(update={"demo": False})
    with TestClient(create_app(settings)) as client:
        assert client.get("/", follow_redirects=False).status_code == 404
        assert client.get("/demo/").status_code == 404
        assert run_jobs(client).status_code == 404


def test_run_jobs_refuses_a_request_from_another_site(client: TestClient) -> None:
    for origin in ("https://elsewhere.example", "null", None):
        response = run_jobs(client, origin)
        assert response.status_code == 403, origin
        assert "only from a page of this shop" in response.text
    assert app_services(client).store.scalar("SELECT count() FROM job_runs") == 0


def test_run_jobs_writes_the_spool_then_runs_every_job_in_order(client: TestClient) -> None:
    now_ms = int(time.time() * 1000)
    event = {"id": "0123456789abcdef", "type": "pageview", "ts": now_ms, "url": f"{ORIGIN}/demo/"}
    posted = client.post("/api/events", json={"site": "demo", "events": [event]}, headers=HEADERS)
    assert posted.status_code == 202
    response = run_jobs(client, back="/demo/checkout/shipping?item=oak-chair")
    assert response.status_code == 200
    assert f"{len(JOB_ORDER)} jobs ran in" in response.text
    assert "all succeeded" in response.text
    assert 'href="/me?site=demo"' in response.text
    assert 'href="/demo/checkout/shipping?item=oak-chair">Back to where you were' in response.text
    store = app_services(client).store
    ran = [row[0] for row in store.rows("SELECT job FROM job_runs ORDER BY started_at")]
    assert ran == JOB_ORDER
    assert store.scalar("SELECT count() FROM events WHERE event_id = '0123456789abcdef'") == 1
    assert parts(response.text).scripts == []  # ClearSignal's own page: no snippet


def test_run_jobs_goes_back_only_to_a_shop_page(client: TestClient) -> None:
    response = run_jobs(client, back="https://elsewhere.example/")
    assert 'href="/demo/">Back to where you were' in response.text


def test_run_jobs_is_rate_limited(client: TestClient) -> None:
    for _ in range(BURST):
        assert run_jobs(client).status_code == 200
    refused = run_jobs(client)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Wait 10 seconds" in refused.text


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Services]:
    opened = open_runtime(settings, CollectorMetrics(), serving=False)
    try:
        yield opened
    finally:
        opened.close()


def counts(runtime: Services) -> tuple[int, int, int, int]:
    store = runtime.store
    return (
        store.scalar("SELECT count() FROM events WHERE site = 'demo'"),
        store.scalar("SELECT count() FROM consent_records WHERE site = 'demo'"),
        store.scalar("SELECT count() FROM sessions"),
        store.scalar(f"SELECT count() FROM job_runs WHERE job = '{SEED_JOB}'"),
    )


def test_seeding_the_demo_history_happens_once(runtime: Services, settings: Settings) -> None:
    first = seed_demo(runtime, settings, visitors=40, days=3)
    assert (first.seeded, first.ok) == (True, True)
    assert first.summary is not None
    assert first.summary.visitors == 40
    assert [outcome.job for outcome in first.jobs] == JOB_ORDER
    events, consents, sessions, seeds = counts(runtime)
    assert events == first.summary.events > 0
    assert consents == first.summary.consented > 0
    assert sessions > 0  # the jobs ran after the simulation
    assert seeds == 1

    again = seed_demo(runtime, settings, visitors=40, days=3)
    assert (again.seeded, again.ok, again.jobs) == (False, True, [])
    assert "was seeded on" in again.reason
    assert counts(runtime) == (events, consents, sessions, seeds)


def test_nothing_is_seeded_without_demo_mode(runtime: Services, settings: Settings) -> None:
    seeding = seed_demo(runtime, settings.model_copy(update={"demo": False}), visitors=5, days=1)
    assert (seeding.seeded, seeding.ok) == (False, True)
    assert counts(runtime) == (0, 0, 0, 0)
