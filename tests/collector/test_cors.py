"""CORS on POST /api/events: the real app and store, wrapped in the CORS middleware.

Two sites: ``demo`` (http://127.0.0.1:8000) and ``shop`` (https://shop.example). A page
may read our answer only when its origin is allowed for the site its request named.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from clearsignal.settings import (
    JobSettings,
    NoticeSettings,
    Settings,
    SiteSettings,
    StoreSettings,
    demo_site,
)
from collector.app import create_app
from collector.cors import SiteCORSMiddleware, note_site
from collector.rate_limit import RateLimiter
from tests.support.collector_app import app_services
from tests.support.site_requests import CHROME

DEMO = "http://127.0.0.1:8000"
SHOP = "https://shop.example"


def shop_site() -> SiteSettings:
    return SiteSettings(
        id="shop",
        allowed_origins=[SHOP],
        notice=NoticeSettings(uri=f"{SHOP}/privacy", version="1", text="Shop notice."),
    )


def body(site: str = "demo") -> dict[str, Any]:
    event = {
        "id": secrets.token_hex(8),
        "type": "pageview",
        "ts": int(time.time() * 1000),
        "url": f"{DEMO}/pricing",
    }
    return {"site": site, "visitor": None, "events": [event]}


def headers(origin: str | None) -> dict[str, str]:
    found = {"user-agent": CHROME, "content-type": "text/plain"}
    if origin is not None:
        found["origin"] = origin
    return found


def preflight(origin: str, method: str = "POST", asked: str | None = None) -> dict[str, str]:
    found = {"origin": origin, "access-control-request-method": method}
    if asked is not None:
        found["access-control-request-headers"] = asked
    return found


@pytest.fixture
def client(tmp_path: Path, chdb_dsn: str) -> Iterator[TestClient]:
    database = f"test_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp_path / "data",
        store=StoreSettings(dsn=chdb_dsn, database=database),
        sites=[demo_site(), shop_site()],
        jobs=JobSettings(in_process=False),
    )
    with TestClient(create_app(settings), client=("203.0.113.9", 50000)) as test_client:
        yield test_client
        services = app_services(test_client)
        services.store.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture
def services(client: TestClient) -> Any:
    return app_services(client)


def test_echoes_the_page_origin_when_it_is_allowed_for_the_named_site(client: TestClient) -> None:
    response = client.post("/api/events", json=body("demo"), headers=headers(DEMO))
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == DEMO
    assert "Origin" in response.headers["vary"]


def test_echoes_the_origin_of_another_configured_site_for_that_site(client: TestClient) -> None:
    response = client.post("/api/events", json=body("shop"), headers=headers(SHOP))
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == SHOP


def test_gives_no_cors_header_to_an_origin_of_another_site(client: TestClient) -> None:
    # shop.example is a configured origin, but not of the site this request names.
    response = client.post("/api/events", json=body("demo"), headers=headers(SHOP))
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in response.headers


def test_gives_no_cors_header_to_an_unknown_origin(client: TestClient) -> None:
    response = client.post("/api/events", json=body(), headers=headers("https://evil.example"))
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_gives_no_cors_header_when_the_body_names_no_usable_site(client: TestClient) -> None:
    for content in (b"not json", b'{"site": "nosuchsite", "events": []}'):
        response = client.post("/api/events", content=content, headers=headers(DEMO))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
    unknown = client.post("/api/events", json=body("nosuchsite"), headers=headers(DEMO))
    assert unknown.status_code == 403
    assert "access-control-allow-origin" not in unknown.headers


def test_never_answers_with_a_wildcard(client: TestClient) -> None:
    for origin in (DEMO, SHOP, "null", "https://evil.example", None):
        response = client.post("/api/events", json=body(), headers=headers(origin))
        assert response.headers.get("access-control-allow-origin") in (DEMO, None)


def test_the_origin_comparison_ignores_case_and_echoes_what_was_sent(client: TestClient) -> None:
    response = client.post("/api/events", json=body(), headers=headers("HTTP://127.0.0.1:8000"))
    assert response.status_code == 202
    assert response.headers["access-control-allow-origin"] == "HTTP://127.0.0.1:8000"


def test_a_rate_limited_answer_is_readable_with_its_retry_after(
    client: TestClient, services: Any
) -> None:
    services.pipeline.limits.site = RateLimiter(rate=1.0, burst=0, clock=lambda: 1.0)
    response = client.post("/api/events", json=body(), headers=headers(DEMO))
    assert response.status_code == 429
    assert response.headers["access-control-allow-origin"] == DEMO
    assert "Retry-After" in response.headers["access-control-expose-headers"]


def test_answers_a_preflight_from_an_allowed_origin(client: TestClient) -> None:
    response = client.options("/api/events", headers=preflight(SHOP, asked="content-type"))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == SHOP
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-allow-headers"] == "Content-Type"
    assert int(response.headers["access-control-max-age"]) > 0
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    ("origin", "method", "asked"),
    [
        ("https://evil.example", "POST", None),
        ("null", "POST", "content-type"),
        (DEMO, "DELETE", None),
        (DEMO, "POST", "content-type, authorization"),
    ],
)
def test_refuses_a_preflight_without_cors_headers(
    client: TestClient, origin: str, method: str, asked: str | None
) -> None:
    response = client.options("/api/events", headers=preflight(origin, method, asked))
    assert response.status_code == 403
    assert response.json()["error"] == "cors_not_allowed"
    assert "access-control-allow-origin" not in response.headers


def test_an_options_request_that_is_not_a_preflight_reaches_the_app(client: TestClient) -> None:
    assert client.options("/api/events").status_code == 405
    assert client.options("/api/events", headers={"origin": DEMO}).status_code == 405


def test_other_paths_are_left_alone(client: TestClient) -> None:
    response = client.get("/healthz", headers={"origin": DEMO})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers


def test_works_around_any_endpoint_that_notes_its_site() -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        note_site(request.scope, request.query_params["site"])
        return PlainTextResponse("ok", status_code=202)

    inner = Starlette(routes=[Route("/collect", endpoint, methods=["POST"])])
    app = SiteCORSMiddleware(inner, sites=[demo_site(), shop_site()], paths=["/collect"])
    with TestClient(app) as client:
        allowed = client.post("/collect?site=shop", headers={"origin": SHOP})
        refused = client.post("/collect?site=demo", headers={"origin": SHOP})
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "access-control-allow-origin" not in refused.headers
