"""Serving the built snippet: /cs.js, versioned immutable URLs, the add-on, the manifest."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from clearsignal.settings import Settings
from collector.app import create_app
from collector.visitor.snippet_files import (
    DEFAULT_SNIPPET_DIR,
    IMMUTABLE,
    LATEST,
    SNIPPET_ROUTES,
    snippet_routes,
)

SNIPPET = b"(()=>{window.clearsignal={}})();\n"
ADD_ON = b"(()=>{})();\n"
# The test client asks for gzip by default; most tests look at the plain bytes.
PLAIN = {"Accept-Encoding": "identity"}


def version_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    directory = tmp_path / "dist"
    directory.mkdir()
    (directory / "cs.js").write_bytes(SNIPPET)
    (directory / "cs-signals.js").write_bytes(ADD_ON)
    return directory


@pytest.fixture
def client(dist: Path) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=snippet_routes(dist))) as test_client:
        yield test_client


def test_serves_the_built_snippet_at_cs_js_with_a_short_cache_and_an_etag(
    client: TestClient,
) -> None:
    response = client.get("/cs.js", headers=PLAIN)
    assert response.status_code == 200
    assert response.content == SNIPPET
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == LATEST == "public, max-age=300"
    assert response.headers["etag"] == f'"{version_of(SNIPPET)}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["access-control-allow-origin"] == "*"


def test_serves_the_same_bytes_at_the_versioned_url_as_immutable(client: TestClient) -> None:
    response = client.get(f"/cs.{version_of(SNIPPET)}.js", headers=PLAIN)
    assert response.status_code == 200
    assert response.content == SNIPPET
    assert response.headers["cache-control"] == IMMUTABLE
    assert IMMUTABLE == "public, max-age=31536000, immutable"


def test_versioned_url_of_another_build_answers_404_naming_the_current_one(
    client: TestClient,
) -> None:
    response = client.get("/cs.0123456789abcdef.js")
    assert response.status_code == 404
    assert f"/cs.{version_of(SNIPPET)}.js" in response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/cs.js", f"/cs.{version_of(SNIPPET)}.js"])
def test_answers_304_when_the_etag_matches(client: TestClient, path: str) -> None:
    etag = client.get(path, headers=PLAIN).headers["etag"]
    response = client.get(path, headers={**PLAIN, "If-None-Match": f'"other", {etag}'})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


def test_sends_gzip_to_clients_that_accept_it(client: TestClient) -> None:
    with client.stream("GET", "/cs.js", headers={"Accept-Encoding": "br, gzip"}) as response:
        wire = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(wire) == SNIPPET
    # Level 9 with no timestamp: the same bytes from every collector, every start.
    assert wire == gzip.compress(SNIPPET, compresslevel=9, mtime=0)
    # Its own representation, its own ETag.
    assert response.headers["etag"] == f'"{version_of(SNIPPET)}.gz"'


def test_sends_plain_bytes_when_gzip_is_refused(client: TestClient) -> None:
    response = client.get("/cs.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in response.headers
    assert response.content == SNIPPET


def test_serves_the_signals_add_on_the_same_way(client: TestClient) -> None:
    latest = client.get("/cs-signals.js", headers=PLAIN)
    versioned = client.get(f"/cs-signals.{version_of(ADD_ON)}.js", headers=PLAIN)
    assert latest.content == versioned.content == ADD_ON
    assert latest.headers["cache-control"] == LATEST
    assert versioned.headers["cache-control"] == IMMUTABLE


def test_manifest_lists_versioned_urls_and_subresource_integrity(client: TestClient) -> None:
    manifest = client.get("/snippet.json").json()
    entry = manifest["cs.js"]
    assert entry["url"] == f"/cs.{version_of(SNIPPET)}.js"
    assert entry["bytes"] == len(SNIPPET)
    digest = base64.b64encode(hashlib.sha384(SNIPPET).digest()).decode()
    assert entry["integrity"] == f"sha384-{digest}"
    assert manifest["cs-signals.js"]["url"] == f"/cs-signals.{version_of(ADD_ON)}.js"
    assert client.get(entry["url"], headers=PLAIN).content == SNIPPET


def test_answers_503_with_what_to_run_when_the_snippet_is_not_built(tmp_path: Path) -> None:
    with TestClient(Starlette(routes=snippet_routes(tmp_path / "missing"))) as test_client:
        latest = test_client.get("/cs.js")
        versioned = test_client.get("/cs.0123456789abcdef.js")
        add_on = test_client.get("/cs-signals.js")
        manifest = test_client.get("/snippet.json")
    for response in (latest, versioned, add_on):
        assert response.status_code == 503
        assert "make snippet" in response.text
        assert response.headers["cache-control"] == "no-store"
    assert manifest.status_code == 200
    assert manifest.json() == {
        "cs.js": None,
        "cs-more.js": None,
        "cs-signals.js": None,
        "cs-link.js": None,
    }


def test_serves_a_rebuild_without_a_restart(client: TestClient, dist: Path) -> None:
    first = client.get("/cs.js", headers=PLAIN)
    rebuilt = SNIPPET.replace(b"{}", b"{v:2}")
    (dist / "cs.js").write_bytes(rebuilt)
    # Same size or not, a new modification time marks a new build.
    stat = (dist / "cs.js").stat()
    os.utime(dist / "cs.js", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = client.get("/cs.js", headers=PLAIN)
    assert second.content == rebuilt
    assert second.headers["etag"] != first.headers["etag"]
    assert client.get(f"/cs.{version_of(SNIPPET)}.js").status_code == 404
    assert client.get(f"/cs.{version_of(rebuilt)}.js", headers=PLAIN).content == rebuilt


def test_head_answers_the_headers_only(client: TestClient) -> None:
    response = client.head("/cs.js", headers=PLAIN)
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{version_of(SNIPPET)}"'
    assert response.content == b""


def test_default_routes_serve_js_snippet_dist() -> None:
    paths = {route.path for route in SNIPPET_ROUTES}
    assert paths == {
        "/cs.js",
        "/cs.{version}.js",
        "/cs-more.js",
        "/cs-more.{version}.js",
        "/cs-signals.js",
        "/cs-signals.{version}.js",
        "/cs-link.js",
        "/cs-link.{version}.js",
        "/snippet.json",
    }
    assert Path(__file__).resolve().parents[3] / "js_snippet" / "dist" == DEFAULT_SNIPPET_DIR


def test_collector_app_serves_the_snippet(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    if not any(getattr(route, "path", None) == "/cs.js" for route in app.routes):
        pytest.skip("collector/app.py does not include SNIPPET_ROUTES yet")
    built = DEFAULT_SNIPPET_DIR / "cs.js"
    # No lifespan: serving a file needs no store.
    response = TestClient(app).get("/cs.js", headers=PLAIN)
    if built.exists():
        assert response.status_code == 200
        assert response.content == built.read_bytes()
    else:
        assert response.status_code == 503
