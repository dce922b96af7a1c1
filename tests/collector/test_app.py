from __future__ import annotations

from starlette.testclient import TestClient

from clearsignal.settings import Settings
from collector.app import create_app


def test_healthz_answers_while_the_process_lives(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"


def test_readyz_answers_200_when_the_store_answers_a_query(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["store"] == "ok"
