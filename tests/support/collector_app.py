"""Helpers for tests that drive the collector app through a TestClient."""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.testclient import TestClient

from collector.app import CollectorApp, Services


def decision(visitor: str | None = None, analytics: bool = True, **fields: Any) -> dict[str, Any]:
    body = {
        "site": "demo",
        "visitor": visitor or secrets.token_urlsafe(16),
        "purposes": {"analytics": analytics, "personalization": analytics},
        "notice_version": "1",
        "method": "banner",
        "client_ts": int(time.time() * 1000),
    }
    return body | fields


def app_services(client: TestClient) -> Services:
    """What the running app's lifespan opened."""
    app = client.app
    assert isinstance(app, CollectorApp)
    return app.services


def run_job(client: TestClient, name: str) -> None:
    outcome = app_services(client).jobs.run(name)
    assert outcome.status == "ok", outcome.error


def from_address(client: TestClient, address: str) -> TestClient:
    """Another client of the app ``client`` runs, from another network address: it shares
    what the running app's lifespan opened (a second lifespan would open a second runtime)."""
    other = TestClient(client.app, client=(address, 40000))
    other.app_state.update(client.app_state)
    return other
