"""Server events through ``clearsignal serve`` as a real process on a loopback port, on
each store backend: keys made with the CLI, a customer linked over HTTP, NDJSON batches
of 500 stored once and shown on the visitor's own /api/me, refusals as a backend and an
attacker would meet them."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from clearsignal.settings import Settings
from tests.conftest import BACKENDS, drop_database, unique_database
from tests.support.cli import clearsignal
from tests.support.clickhouse_http import ClickHouseHttpServer
from tests.support.collector_app import decision
from tests.support.serve import Serve
from tests.support.server_events import LINK_SECRET, server_event, signed_link, touchpoint_settings
from tests.support.site_requests import HEADERS


@dataclass
class Served:
    serve: Serve
    key: str
    contacts_only: str

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.serve.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
        finally:
            connection.close()

    def ndjson(self, key: str, events: list[dict[str, Any]]) -> tuple[int, Any]:
        body = b"\n".join(orjson.dumps(event) for event in events)
        headers = {"authorization": f"Bearer {key}", "content-type": "application/x-ndjson"}
        return self.call("POST", "/api/server-events?site=demo", body, headers)

    def visitor(self, customer: str) -> str:
        """A browser with an analytics grant, linked to ``customer`` by a signed token."""
        browser = secrets.token_urlsafe(16)
        granted = self.call("POST", "/api/consent", orjson.dumps(decision(browser)), HEADERS)
        assert granted[0] == 201, granted
        link = {"site": "demo", "visitor": browser, "link": signed_link(customer)}
        assert self.call("POST", "/api/visitor/link", orjson.dumps(link), HEADERS)[0] == 201
        return browser

    def held(self, browser: str) -> list[dict[str, Any]]:
        auth = {"authorization": f"ClearSignal-Visitor {browser}"}
        status, export = self.call("GET", "/api/me?site=demo&limit=1", headers=auth)
        assert status == 200, export
        found: list[dict[str, Any]] = export["server_events"]
        return found


def _sites_env(tmp: Path) -> dict[str, str]:
    sites = []
    for site in touchpoint_settings(Settings(data_dir=tmp)).sites:
        shown = site.model_dump(mode="json", exclude={"touchpoints"})
        if site.touchpoints.link_secret is not None:
            shown["touchpoints"] = {"link_secret": LINK_SECRET}
        sites.append(shown)
    return {"CLEARSIGNAL_SITES": json.dumps(sites)}


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp(f"served-{request.param}")
    env = _sites_env(tmp) | {"CLEARSIGNAL_DATA_DIR": str(tmp / "data")}
    database = None
    if request.param == "http":
        server: ClickHouseHttpServer = request.getfixturevalue("clickhouse_http")
        database = unique_database()
        env |= {"CLEARSIGNAL_STORE__DSN": server.url, "CLEARSIGNAL_STORE__DATABASE": database}

    def key(*kinds: str) -> str:
        made = clearsignal(
            "keys", "create", "demo", *(f"--kind={k}" for k in kinds), cwd=tmp, env=env
        )
        assert made.returncode == 0, made.stderr
        return made.stdout.strip().splitlines()[-1]

    every, contacts = key(), key("contact")
    serve = Serve(tmp / "data", env=env)
    serve.start()
    try:
        yield Served(serve, every, contacts)
    finally:
        serve.stop()
        if database is not None:
            drop_database(env["CLEARSIGNAL_STORE__DSN"], database)


def test_ndjson_batches_of_500_are_stored_once_and_shown_to_the_linked_visitor(
    served: Served,
) -> None:
    browser = served.visitor("cust-500")
    batch = [server_event("order", "cust-500") for _ in range(500)]
    for _ in range(2):  # the backend retries the whole batch
        status, answer = served.ndjson(served.key, batch)
        assert status == 202, answer
        assert answer == {"accepted": 500, "dropped": {}}
    deadline = time.monotonic() + 30
    while len(held := served.held(browser)) < 500 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # a second write of the retry would show by now
    held = served.held(browser)
    assert len(held) == 500
    assert {event["event_id"] for event in held} == {event["id"] for event in batch}


def test_refusals_over_the_wire(served: Served) -> None:
    event = server_event("order", "cust-x")
    assert served.ndjson("cs_sk_0123456789ab_" + "C" * 43, [event])[0] == 401
    status, answer = served.ndjson(served.contacts_only, [event])
    assert (status, answer["dropped"]) == (202, {"out_of_scope": 1})
    attacker = served.visitor("attacker-1")
    forged = signed_link("victim-1", secret="not-the-sites-secret-0123456789abcdef")
    body = orjson.dumps({"site": "demo", "visitor": attacker, "link": forged})
    status, refused = served.call("POST", "/api/visitor/link", body, HEADERS)
    assert (status, refused["error"]) == (403, "link_forged")
    victims = served.ndjson(served.key, [server_event("complaint", "victim-1")])
    assert victims[0] == 202
    time.sleep(1.5)
    assert served.held(attacker) == []
