"""No /admin route shows a site owner anything about one visitor (both backends).

The routes are taken from the app's router, not from a list kept here: every route
under /admin must be a row of the guarded route table, and every one is requested as a
site owner (pages with a search for a real visitor key and receipt id, forms with a valid
CSRF token), and no visitor key, receipt id or entry hash may come back. The privacy
officer, asking the same, does get them: the check can see a leak.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from aggregator.store.client import Store
from clearsignal.settings import AdminRole, Settings
from collector.admin.routes import ADMIN_ROUTES
from collector.rooms import Room
from tests.support.admin_accounts import OFFICER, OWNER, csrf_token, logged_actions, sign_in
from tests.support.admin_shop import Shop, open_shop


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with open_shop(settings) as opened:
        yield opened


def admin_routes_of(client: TestClient) -> list[tuple[str, str]]:
    """Every (path, method) the app serves under /admin: its room's entrance and routes."""
    rooms = [r for r in client.app.router.routes if isinstance(r, Room) and r.path == "/admin"]  # type: ignore[attr-defined]
    assert len(rooms) == 1
    outside = [r for r in client.app.router.routes if r not in rooms]  # type: ignore[attr-defined]
    assert not [r for r in outside if getattr(r, "path", "").startswith("/admin")]
    [room] = rooms
    found = [("/admin", "GET")]
    for route in room.routes:
        assert isinstance(route, Route)
        found.extend(
            (f"/admin{route.path}", method)
            for method in sorted(route.methods or ())
            if method != "HEAD"
        )
    return found


def per_visitor_values(store: Store) -> set[str]:
    """Every visitor key, receipt id and leaf hash in the store."""
    rows = store.rows(
        "SELECT visitor_key FROM events WHERE visitor_key != '' UNION DISTINCT "
        "SELECT visitor_key FROM consent_records UNION DISTINCT "
        "SELECT receipt_id FROM consent_records UNION DISTINCT "
        "SELECT lower(hex(leaf_hash)) FROM consent_records"
    )
    values = {str(value) for (value,) in rows}
    assert len(values) > 300
    return values


def request_every_route(shop: Shop, receipt: str, visitor: str) -> dict[tuple[str, str], Any]:
    client = shop.client
    token = csrf_token(client.get("/admin/dashboard").text)
    search = {"receipt": receipt, "visitor": visitor, "site": "demo", "user": OWNER}
    answers = {}
    for path, method in admin_routes_of(client):
        url = path.replace("{receipt_id}", receipt)
        if method == "GET":
            answers[(path, method)] = client.get(url, params=search, follow_redirects=False)
        else:
            form = {"csrf": token, "site": "demo", "format": "csv", **search}
            if path == "/admin/logout":
                continue  # ends the session: requested last, below
            answers[(path, method)] = client.post(url, data=form, follow_redirects=False)
    answers[("/admin/logout", "POST")] = client.post(
        "/admin/logout", data={"csrf": token}, follow_redirects=False
    )
    return answers


def test_every_admin_route_is_in_the_guarded_table(shop: Shop) -> None:
    declared = {(row.path, method) for row in ADMIN_ROUTES for method in row.methods}
    served = set(admin_routes_of(shop.client))
    assert served == declared


def test_a_site_owner_reaches_no_per_visitor_data_through_any_admin_route(shop: Shop) -> None:
    store = shop.services.store
    personal = per_visitor_values(store)
    receipt = shop.withdrawal_receipt
    visitor = str(store.scalar(
        "SELECT visitor_key FROM consent_records WHERE receipt_id = {r:String}", {"r": receipt}
    ))  # fmt: skip
    assert sign_in(shop.client, OWNER).status_code == 303
    answers = request_every_route(shop, receipt, visitor)
    officer_only = {
        (row.path, method)
        for row in ADMIN_ROUTES
        for method in row.methods
        if AdminRole.SITE_OWNER not in row.roles and row.roles
    }
    assert len(officer_only) >= 8
    for (path, method), answer in answers.items():
        shown = answer.text + " ".join(f"{k}: {v}" for k, v in answer.headers.items())
        leaked = sorted(value for value in personal if value in shown)
        assert leaked == [], f"{method} {path} shows {leaked[:3]}"
        if (path, method) in officer_only:
            assert answer.status_code == 403, (path, method)
    assert answers[("/admin/dashboard", "GET")].status_code == 200
    sign_in(shop.client, OWNER)  # the last route signed out
    assert shop.client.get("/admin/dashboard?site=other").status_code == 404
    assert len(logged_actions(shop.client, "refused_role")) == len(officer_only)


def test_the_privacy_officer_asking_the_same_gets_the_visitors_record(shop: Shop) -> None:
    store = shop.services.store
    receipt = shop.withdrawal_receipt
    visitor = str(store.scalar(
        "SELECT visitor_key FROM consent_records WHERE receipt_id = {r:String}", {"r": receipt}
    ))  # fmt: skip
    sign_in(shop.client, OFFICER)
    answers = request_every_route(shop, receipt, visitor)
    console = answers[("/admin/console", "GET")]
    assert console.status_code == 200
    assert receipt in console.text
    assert visitor[:12] in console.text
    assert visitor in answers[("/admin/console/receipts/{receipt_id}", "GET")].text
    assert receipt in answers[("/admin/console/export", "POST")].text
    assert logged_actions(shop.client, "search_consent_log")
    assert all(visitor not in str(row) for row in logged_actions(shop.client))
