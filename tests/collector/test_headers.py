"""Every page and file the collector serves carries the one set of security headers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import JobSettings, Settings, StoreSettings
from collector.app import create_app
from collector.headers import PAGE_POLICY, SCRIPTLESS_POLICY, page_headers
from tests.conftest import unique_database
from tests.support.collector_app import app_services

PAGES = {
    "/me": PAGE_POLICY,
    "/me.js": PAGE_POLICY,
    "/me.css": PAGE_POLICY,
    "/demo/": PAGE_POLICY,
    "/demo/shop.css": PAGE_POLICY,
    "/admin/login": SCRIPTLESS_POLICY,
    "/admin/admin.css": SCRIPTLESS_POLICY,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, chdb_dsn: str) -> Iterator[TestClient]:
    database = unique_database()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("headers"),
        store=StoreSettings(dsn=chdb_dsn, database=database),
        jobs=JobSettings(in_process=False),
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client
        app_services(test_client).store.command(f"DROP DATABASE `{database}` SYNC")


@pytest.mark.parametrize(("path", "policy"), PAGES.items())
def test_a_page_says_no_sniffing_no_framing_no_sharing_and_its_policy(
    client: TestClient, path: str, policy: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    expected = page_headers(response.headers["cache-control"], policy)
    shown = {name: response.headers.get(name) for name in expected}
    if path.startswith("/demo/"):
        expected["Referrer-Policy"] = "same-origin"  # the shop's own forms need an Origin
    assert shown == expected


def test_no_page_policy_allows_inline_code_or_other_origins() -> None:
    for policy in (PAGE_POLICY, SCRIPTLESS_POLICY):
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe" not in policy
        assert "http" not in policy
    assert "script-src" not in SCRIPTLESS_POLICY


def test_the_snippet_is_loadable_by_any_site(client: TestClient) -> None:
    response = client.get("/cs.js")
    if response.status_code == 503:
        pytest.skip("the snippet is not built (make snippet)")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
