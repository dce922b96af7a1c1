"""What operators read (/metrics, /readyz's details) is theirs alone: a token, or a trusted
network; the public sees whether the store answers, and no error text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import ServerSettings, Settings
from collector.app import create_app
from tests.conftest import OPERATOR, OPERATOR_TOKEN
from tests.support.collector_app import app_services, from_address

OUTSIDE = ("203.0.113.9", 40000)
LOOPBACK = ("127.0.0.1", 40000)


def clients(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    app = create_app(settings)
    with TestClient(app, client=OUTSIDE) as outside:
        yield outside, from_address(outside, LOOPBACK[0])  # the same app, from the host itself


def test_metrics_need_the_token_or_a_trusted_network(settings: Settings) -> None:
    for outside, loopback in clients(settings):
        refused = outside.get("/metrics")
        assert refused.status_code == 403
        assert "metrics_token" in refused.json()["detail"]
        assert "clearsignal_" not in refused.text
        assert outside.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 403
        token = outside.get("/metrics", headers=OPERATOR)
        assert token.status_code == 200
        assert "clearsignal_events_accepted" in token.text
        assert loopback.get("/metrics").status_code == 200


def test_readyz_tells_the_public_only_whether_the_store_answers(settings: Settings) -> None:
    for outside, loopback in clients(settings):
        app_services(outside).writer.last_error = "Code: 516. password=secret-of-the-store"
        public = outside.get("/readyz")
        assert (public.status_code, public.json()) == (200, {"store": "ok"})
        assert public.headers["cache-control"] == "no-store"
        detailed = outside.get("/readyz", headers=OPERATOR).json()
        assert set(detailed) >= {"store", "spool_backlog_bytes", "unverified_backlog_bytes"}
        assert "spool_backlog_bytes" in loopback.get("/readyz").json()


def test_no_token_and_no_network_closes_the_operator_pages(settings: Settings) -> None:
    closed = settings.model_copy(update={"server": ServerSettings(metrics_networks=[])})
    for _, loopback in clients(closed):
        assert loopback.get("/metrics").status_code == 403
        assert set(loopback.get("/readyz").json()) == {"store"}


def test_a_short_token_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="at least 24 characters"):
        ServerSettings(metrics_token="short")
    assert len(OPERATOR_TOKEN) >= 24
