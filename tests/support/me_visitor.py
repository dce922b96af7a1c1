"""A visitor with data on the demo site, and the /api/me requests the tests send for them;
the app they run against has the demo site and ``other`` (``other_site``)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from aggregator.store.client import Store
from clearsignal.settings import NoticeSettings, SiteSettings
from tests.support.collector_app import app_services, decision
from tests.support.site_requests import HEADERS, ORIGIN

__all__ = [
    "OTHER_HEADERS",
    "OTHER_ORIGIN",
    "add_signal",
    "auth",
    "flush",
    "me",
    "other_site",
    "rows_of",
    "visitor_with_data",
]

OTHER_ORIGIN = "https://other.example"
OTHER_HEADERS = HEADERS | {"origin": OTHER_ORIGIN}


def other_site() -> SiteSettings:
    return SiteSettings(
        id="other",
        allowed_origins=[OTHER_ORIGIN],
        notice=NoticeSettings(uri=f"{OTHER_ORIGIN}/privacy", version="1", text="Other notice."),
    )


def auth(browser_id: str) -> dict[str, str]:
    return {"authorization": f"ClearSignal-Visitor {browser_id}"}


def me(client: TestClient, browser_id: str, site: str = "demo", **params: Any) -> Any:
    return client.get("/api/me", params={"site": site, **params}, headers=auth(browser_id))


def flush(client: TestClient) -> None:
    app_services(client).writer.flush()


def visitor_with_data(
    client: TestClient, paths: tuple[str, ...] = ("/pricing", "/faq", "/shop/desk")
) -> str:
    """A visitor who granted analytics and viewed ``paths``, one second apart, stored."""
    browser_id = secrets.token_urlsafe(16)
    assert (
        client.post("/api/consent", json=decision(browser_id), headers=HEADERS).status_code == 201
    )
    start = int(time.time() * 1000) - 60_000
    events = [
        {"id": secrets.token_hex(8), "type": "pageview", "ts": start + 1000 * i,
         "url": f"{ORIGIN}{path}"}
        for i, path in enumerate(paths)
    ]  # fmt: skip
    batch = {"site": "demo", "visitor": browser_id, "events": events}
    assert client.post("/api/events", json=batch, headers=HEADERS).json()["accepted"] == len(paths)
    flush(client)
    return browser_id


def add_signal(client: TestClient, browser_id: str, evidence_ids: list[str]) -> None:
    key = app_services(client).ledger.visitor_key("demo", browser_id)
    now = datetime.now(UTC).replace(microsecond=0)
    first, last = now - timedelta(days=2), now - timedelta(days=1)
    evidence = [(evidence_ids[0], first, "/pricing"), (evidence_ids[-1], last, "/pricing")]
    app_services(client).store.insert(
        "signals",
        [["demo", key, "price_uncertainty", 1, first, last, 3.0, evidence, now,
          now + timedelta(days=180)]],
        ["site", "visitor_key", "rule_id", "rule_version", "window_start", "window_end",
         "value", "evidence", "computed_at", "expires_at"],
    )  # fmt: skip


def rows_of(store: Store, table: str, key: str) -> int:
    count: int = store.scalar(
        f"SELECT count() FROM {table} WHERE visitor_key = {{k:String}}", {"k": key}
    )
    return count
