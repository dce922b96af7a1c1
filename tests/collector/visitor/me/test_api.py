"""/api/me through the real app and store (both backends): a visitor reads, pages through
and deletes their own data, and no request of one visitor reaches another's."""

from __future__ import annotations

import logging
import secrets
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from aggregator.store.client import Store
from clearsignal.settings import LimitSettings
from tests.support.collector_app import app_services, decision, run_job
from tests.support.me_visitor import (
    OTHER_HEADERS,
    add_signal,
    auth,
    me,
    rows_of,
    visitor_with_data,
)
from tests.support.site_requests import HEADERS


def test_a_visitor_reads_everything_held_about_them(client: TestClient) -> None:
    browser_id = visitor_with_data(client)
    event_ids = [e["event_id"] for e in me(client, browser_id).json()["events"]["items"]]
    add_signal(client, browser_id, event_ids)
    run_job(client, "consent.sequence")
    response = me(client, browser_id)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["format"] == "clearsignal-visitor-export/1"
    assert body["visitor_key"] == app_services(client).ledger.visitor_key("demo", browser_id)
    current = body["consent"]["current"]
    assert (current["analytics"], current["personalization"]) == (True, True)
    assert current["notice_version"] == "1"
    assert current["recorded_at"].endswith("Z")
    [receipt] = body["receipts"]
    assert receipt["verification"]["status"] == "verified"
    assert receipt["verification"]["log_index"] == 0
    assert receipt["receipt"]["subject"] == body["visitor_key"]
    events = body["events"]
    assert events["total"] == 3
    assert events["next"] is None
    assert [e["label"] for e in events["items"]] == [
        "Viewed /shop/desk",
        "Viewed Help and FAQ",
        "Viewed Pricing",
    ]
    assert events["items"][2]["page_kind"] == "pricing"
    assert events["deleted_between"][0] > datetime.now(UTC).isoformat()
    [signal] = body["signals"]
    assert signal["rule_id"] == "price_uncertainty"
    assert signal["title"] == "Price uncertainty"
    assert signal["noticed"].startswith("You opened the pricing page on 3 visits between ")
    assert [item["event_id"] for item in signal["evidence"]] == [event_ids[0], event_ids[-1]]
    assert "clear" in signal["why"]
    assert signal["may_do"]
    assert signal["delete_on"] > datetime.now(UTC).isoformat()
    assert body["about"]["site"]["notice"]["version"] == "1"
    assert "Your IP address." in body["about"]["never_collected"]


def test_a_receipt_is_pending_until_the_log_signs_a_checkpoint(client: TestClient) -> None:
    browser_id = secrets.token_urlsafe(16)
    client.post("/api/consent", json=decision(browser_id), headers=HEADERS)
    [receipt] = me(client, browser_id).json()["receipts"]
    assert receipt["verification"]["status"] == "pending"
    assert me(client, browser_id).json()["events"]["total"] == 0


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer UmV0dXJuaW5nVmlzaXRvcg",
        "ClearSignal-Visitor",
        "ClearSignal-Visitor short",
        "ClearSignal-Visitor UmV0dXJuaW5nVmlzaXRvcg!",
        "ClearSignal-Visitor UmV0dXJuaW5nVmlzaXRvcgUmV0dXJu",
    ],
)
def test_without_a_well_formed_id_the_answer_is_401(
    client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    for path in ("/api/me", "/api/me/events"):
        response = client.get(path, params={"site": "demo"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "ClearSignal-Visitor"
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["error"] == "no_visitor_id"


def test_an_id_in_the_url_is_not_read(client: TestClient) -> None:
    browser_id = visitor_with_data(client)
    params = {"site": "demo", "visitor": browser_id, "id": browser_id}
    assert client.get("/api/me", params=params).status_code == 401


def test_an_unknown_id_and_another_sites_id_get_the_same_answer(client: TestClient) -> None:
    browser_id = visitor_with_data(client)
    assert me(client, browser_id).status_code == 200
    stranger = secrets.token_urlsafe(16)
    answers = [me(client, browser_id, "other"), me(client, stranger, "other"), me(client, stranger)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["error"] == "nothing_held"
    shapes = {tuple(sorted((k, v) for k, v in a.headers.items() if k != "date")) for a in answers}
    assert len(shapes) == 1
    pages = [
        client.get("/api/me/events", params={"site": site}, headers=auth(who))
        for who, site in ((browser_id, "other"), (stranger, "other"))
    ]
    assert [p.json() for p in pages] == [
        {"total": 0, "deleted_between": None, "items": [], "next": None}
    ] * 2


def count_queries(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every query the app's store runs from now on (``scalar`` reads ``rows``)."""
    queries: list[str] = []
    for name in ("rows", "dicts"):
        method = getattr(store, name)

        def counted(sql: str, parameters: Any = None, method: Any = method) -> Any:
            queries.append(sql)
            return method(sql, parameters)

        monkeypatch.setattr(store, name, counted)
    return queries


def test_an_unknown_id_costs_the_same_queries_and_time_as_a_known_one_without_data(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    known_elsewhere = visitor_with_data(client)  # known on demo, holds nothing on other
    counted = count_queries(app_services(client).store, monkeypatch)
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    queries: dict[str, list[str]] = {}
    for _ in range(7):
        for name, browser_id in (
            ("known", known_elsewhere),
            ("unknown", secrets.token_urlsafe(16)),
        ):
            counted.clear()
            started = time.perf_counter()
            assert me(client, browser_id, "other").status_code == 404
            timings[name].append(time.perf_counter() - started)
            queries[name] = list(counted)
    monkeypatch.undo()
    assert len(queries["known"]) >= 3
    assert queries["known"] == queries["unknown"]
    known, unknown = (statistics.median(timings[n]) for n in ("known", "unknown"))
    assert max(known, unknown) < 2.5 * min(known, unknown), timings


def test_no_request_of_one_visitor_reads_changes_or_deletes_anothers(client: TestClient) -> None:
    alice = visitor_with_data(client, ("/pricing", "/alice-only"))
    bob = visitor_with_data(client, ("/faq", "/bob-only", "/contact"))
    alice_key, bob_key = (app_services(client).ledger.visitor_key("demo", v) for v in (alice, bob))
    store = app_services(client).store

    mine = me(client, alice).json()
    assert mine["visitor_key"] == alice_key
    assert {e["path"] for e in mine["events"]["items"]} == {"/pricing", "/alice-only"}
    assert {r["receipt"]["subject"] for r in mine["receipts"]} == {alice_key}
    assert bob_key not in me(client, alice).text
    page = client.get("/api/me/events", params={"site": "demo", "limit": 100}, headers=auth(alice))
    assert {e["path"] for e in page.json()["items"]} == {"/pricing", "/alice-only"}

    # Alice's header with Bob's id in the body: the header names whose data goes.
    body = {"site": "demo", "visitor": bob}
    deleted = client.request(
        "DELETE", "/api/me", params={"site": "demo"}, json=body, headers=HEADERS | auth(alice)
    )
    assert deleted.status_code == 202
    assert deleted.json()["withdrawal"]["subject"] == alice_key
    run_job(client, "consent.erase")
    assert rows_of(store, "events", alice_key) == 0
    assert rows_of(store, "events", bob_key) == 3
    theirs = me(client, bob).json()
    assert theirs["events"]["total"] == 3
    assert theirs["consent"]["current"]["analytics"] is True
    assert [r["kind"] for r in theirs["consent"]["records"]] == ["consent"]


def test_a_delete_request_by_header_erases_the_visitors_events_and_signals(
    client: TestClient,
) -> None:
    browser_id = visitor_with_data(client)
    key = app_services(client).ledger.visitor_key("demo", browser_id)
    add_signal(client, browser_id, ["a" * 16])
    foreign = client.request(
        "DELETE", "/api/me", params={"site": "demo"}, headers=OTHER_HEADERS | auth(browser_id)
    )
    assert foreign.status_code == 403
    response = client.request(
        "DELETE", "/api/me", params={"site": "demo"}, headers=HEADERS | auth(browser_id)
    )
    assert response.status_code == 202, response.text
    assert response.headers["cache-control"] == "no-store"
    request_id = response.json()["withdrawal"]["receipt_id"]
    run_job(client, "consent.erase")
    run_job(client, "consent.sequence")
    erasure = client.get(f"/api/erasures/{request_id}").json()
    assert erasure["rows_deleted"] == {"events": 3, "signals": 1}
    store = app_services(client).store
    assert (rows_of(store, "events", key), rows_of(store, "signals", key)) == (0, 0)
    after = me(client, browser_id).json()
    assert (after["events"]["total"], after["signals"]) == (0, [])
    assert after["consent"]["current"]["analytics"] is False
    kinds = [r["kind"] for r in after["consent"]["records"]]
    assert kinds == ["erasure", "withdrawal", "consent"]
    bad = client.request("DELETE", "/api/me", params={"site": "demo"}, headers=HEADERS | auth("x"))
    assert bad.status_code == 401


def test_the_timeline_pages_through_every_event_once_newest_first(client: TestClient) -> None:
    paths = tuple(f"/page-{i}" for i in range(7))
    browser_id = visitor_with_data(client, paths)
    seen: list[str] = []
    cursor: str | None = None
    sizes = []
    while True:
        params: dict[str, str | int] = {"site": "demo", "limit": 3}
        if cursor:
            params["before"] = cursor
        page = client.get("/api/me/events", params=params, headers=auth(browser_id)).json()
        assert page["total"] == 7
        sizes.append(len(page["items"]))
        seen.extend(e["path"] for e in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == list(reversed(paths))
    first = me(client, browser_id, limit=2).json()["events"]
    assert [e["path"] for e in first["items"]] == ["/page-6", "/page-5"]
    assert first["next"] is not None


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"before": "yesterday"}]
)
def test_bad_page_parameters_are_refused(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get(
        "/api/me/events", params={"site": "demo"} | params, headers=auth(secrets.token_urlsafe(16))
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_an_unknown_site_is_refused(client: TestClient) -> None:
    response = me(client, secrets.token_urlsafe(16), "nosuch")
    assert response.status_code == 403
    assert response.json()["error"] == "unknown_site"


def test_requests_beyond_the_burst_are_rate_limited(client: TestClient) -> None:
    burst = int(LimitSettings().lookups_address_burst)
    statuses = [client.get("/api/me", params={"site": "demo"}).status_code for _ in range(burst)]
    assert set(statuses) == {401}
    limited = me(client, secrets.token_urlsafe(16))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["cache-control"] == "no-store"


def test_the_site_explanation_needs_no_id(client: TestClient) -> None:
    response = client.get("/api/me/about", params={"site": "demo"})
    assert response.status_code == 200
    about = response.json()
    assert "nothing is linked to you" in about["anonymous_counting"]
    assert {p["id"]: p["needs_consent"] for p in about["purposes"]} == {
        "measurement": False,
        "analytics": True,
        "personalization": True,
    }
    assert about["retention"]["events_days"] == 180
    assert "price_uncertainty" in {r["id"] for r in about["rules"]}
    assert client.get("/api/me/about", params={"site": "nosuch"}).status_code == 403


def test_the_browser_id_is_never_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        browser_id = visitor_with_data(client)
        me(client, browser_id)
        client.get("/api/me/events", params={"site": "demo"}, headers=auth(browser_id))
        client.request(
            "DELETE", "/api/me", params={"site": "demo"}, headers=HEADERS | auth(browser_id)
        )
        run_job(client, "consent.erase")
    assert caplog.records
    assert browser_id not in caplog.text


def test_the_page_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    for path, media in (
        ("/me", "text/html"),
        ("/me.js", "text/javascript"),
        ("/me.css", "text/css"),
    ):
        response = client.get(path, params={"site": "demo"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
    page = client.get("/me").text
    assert "<script>" not in page
    assert "://" not in page
