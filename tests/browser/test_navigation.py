"""Every navigation of a single-page app counted at once, exactly once, in a real browser.

router.html is a Vue app on vue-router (fixtures/router-app.js), in its HTML5 history
mode or its hash mode. The snippet hears navigations from the Navigation API where
chromium has it, and from the History API (pushState and replaceState wrapped by its
on-demand piece, popstate, hashchange) where it does not: each test runs both ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.harness import NO_NAVIGATION_API, RETURNING_VISITOR, Rows, Visit, types

FOUR_ROUTES = ["/app/login", "/app/dashboard", "/app/orders", "/app/orders/42"]


@pytest.fixture(params=["navigation-api", "history-api"])
def spa(request: pytest.FixtureRequest, make_visit: Callable[..., Visit]) -> Iterator[Visit]:
    """A returning visitor's browser, with or without the Navigation API."""
    scripts = [RETURNING_VISITOR]
    if request.param == "history-api":
        scripts.append(NO_NAVIGATION_API)
    opened = make_visit(init_script=";".join(scripts))
    yield opened
    assert opened.errors == [], "the page threw"
    # chromium asks for /favicon.ico (404); nothing else may fail.
    assert [error for error in opened.console_errors if "status of 404" not in error] == []


def open_app(visit: Visit, mode: str = "history") -> None:
    visit.open("router.html", router=mode)
    visit.page.wait_for_function("() => window.routerReady === true")


def pageviews(visit: Visit, count: int) -> Rows:
    """The pageviews sent, once there are ``count`` of them (and a moment for more)."""
    visit.wait_sent(lambda events: types(events).count("pageview") >= count)
    visit.settled()
    return [event for event in visit.sent_events() if event["type"] == "pageview"]


def paths(events: Rows, visit: Visit) -> list[str]:
    return [path_of(event, visit) for event in events]


def path_of(event: dict[str, Any], visit: Visit) -> str:
    """The event's URL from the page's directory on: app/orders, router.html#/app/orders."""
    return re.sub(r"\?[^#]*", "", str(event["url"]).split(f"/fixtures/{visit.run}/", 1)[1])


def navigate(visit: Visit, routes: list[str], apart_ms: int, how: str = "push") -> list[int]:
    """``router.push`` (or replace) each route, ``apart_ms`` apart, from the app's own
    code; returns the page's clock just before each call."""
    return list(
        visit.page.evaluate(
            """async ([routes, apart, how]) => {
                const started = []
                for (const route of routes) {
                    started.push(Date.now())
                    await router[how](route)
                    await new Promise((done) => setTimeout(done, apart))
                }
                return started
            }""",
            [routes, apart_ms, how],
        )
    )


def test_four_navigations_300_ms_apart_send_four_pageviews_in_order_at_once(spa: Visit) -> None:
    open_app(spa)
    started = navigate(spa, FOUR_ROUTES, 300)
    sent = pageviews(spa, 5)
    assert paths(sent, spa) == [
        "router.html",
        "app/login",
        "app/dashboard",
        "app/orders",
        "app/orders/42",
    ]
    # At once: each within a few ms of the app's call, not at the next second's tick.
    delays = [event["ts"] - at for event, at in zip(sent[1:], started, strict=True)]
    assert all(0 <= delay < 100 for delay in delays), delays
    # Each navigation's referrer is the page before it; the first page's, the document's.
    assert sent[0]["ref"] == ""
    assert [event["ref"] for event in sent[1:]] == [event["url"] for event in sent[:-1]]
    # And stored so, in order.
    rows = spa.stored(lambda rows: types(rows).count("pageview") >= 5)
    stored = sorted((row for row in rows if row["type"] == "pageview"), key=lambda r: r["url"])
    assert sorted(row["path"].split(f"/fixtures/{spa.run}/")[1] for row in stored) == sorted(
        ["router.html", "app/login", "app/dashboard", "app/orders", "app/orders/42"]
    )


def test_navigations_50_ms_apart_are_each_counted_once(spa: Visit) -> None:
    open_app(spa)
    routes = [*FOUR_ROUTES, "/app/dashboard", "/app/orders/7"]
    navigate(spa, routes, 50)
    sent = pageviews(spa, 1 + len(routes))
    assert paths(sent, spa) == ["router.html"] + [route.removeprefix("/") for route in routes]
    assert len({event["id"] for event in sent}) == len(sent)
    timestamps = [event["ts"] for event in sent]
    assert timestamps == sorted(timestamps)


def test_redirects_count_where_the_visitor_lands(spa: Visit) -> None:
    open_app(spa)
    # A guard that sends /app/admin on to the login page, and a route that redirects.
    navigate(spa, ["/app/admin", "/app/old-orders"], 50)
    sent = pageviews(spa, 3)
    assert paths(sent, spa) == ["router.html", "app/login", "app/orders"]


def test_back_and_forward_are_navigations_too(spa: Visit) -> None:
    open_app(spa)
    navigate(spa, ["/app/login", "/app/orders"], 50)
    pageviews(spa, 3)
    spa.page.evaluate("router.back()")
    spa.page.wait_for_function("() => location.pathname.endsWith('/app/login')")
    spa.page.evaluate("router.forward()")
    spa.page.wait_for_function("() => location.pathname.endsWith('/app/orders')")
    sent = pageviews(spa, 5)
    assert paths(sent, spa)[1:] == ["app/login", "app/orders", "app/login", "app/orders"]
    assert sent[3]["ref"] == sent[2]["url"]


def test_hash_routes_are_pages_and_plain_fragments_are_not(spa: Visit) -> None:
    open_app(spa, "hash")
    navigate(spa, ["/app/login", "/app/orders/42"], 50)
    spa.page.evaluate("location.hash = '#/app/orders/42'")  # the same route: no new page
    spa.page.evaluate("router.back()")
    spa.page.wait_for_function("() => location.hash === '#/app/login'")
    sent = pageviews(spa, 4)
    # The app's first route, #/, is the first page.
    routes = [path.removeprefix("router.html") for path in paths(sent, spa)]
    assert routes == ["#/", "#/app/login", "#/app/orders/42", "#/app/login"]
    rows = spa.stored(lambda rows: types(rows).count("pageview") >= 4)
    stored = {row["path"].split(f"/fixtures/{spa.run}/")[1] for row in rows}
    assert stored == {"router.html#/", "router.html#/app/login", "router.html#/app/orders/42"}


def test_a_replace_state_that_changes_only_the_query_is_the_same_page(spa: Visit) -> None:
    open_app(spa)
    navigate(spa, ["/app/orders"], 50)
    # The app keeps a filter in the query string (replace), then opens an order (push).
    navigate(spa, ["/app/orders?status=open"], 50, how="replace")
    spa.page.evaluate("clearsignal.track('filtered')")
    navigate(spa, ["/app/orders/42"], 50)
    spa.wait_sent(lambda events: "custom" in types(events))
    sent = pageviews(spa, 3)
    assert paths(sent, spa) == [
        "router.html",
        "app/orders",
        "app/orders/42",
    ]
    # Events after the replace carry the page's new URL; the next page's referrer too.
    (custom,) = [event for event in spa.sent_events() if event["type"] == "custom"]
    assert custom["url"].endswith("/app/orders?status=open")
    assert sent[2]["ref"] == custom["url"]


def test_the_history_api_is_wrapped_only_where_there_is_no_navigation_api(
    spa: Visit,
) -> None:
    open_app(spa)
    navigate(spa, ["/app/login"], 50)
    pageviews(spa, 2)
    wrapped = spa.page.evaluate("!history.pushState.toString().includes('[native code]')")
    has_api = spa.page.evaluate("!!window.navigation")
    assert wrapped == (not has_api)
