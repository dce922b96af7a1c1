"""Schemathesis against the served /api/openapi.json, on the real app behind real uvicorn.

The schema is loaded over HTTP from the running server, and every generated request is
sent over loopback TCP. Checks: no 5xx, every status and content type is documented,
every body matches its documented schema, and invalid input is refused.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from clearsignal.settings import Settings, StoreSettings
from collector.app import create_app
from tests.support.site_requests import CHROME, ORIGIN

HEADERS = {"Origin": ORIGIN, "User-Agent": CHROME}
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def refuses_invalid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' negative-data check, also taking our documented 413 as a refusal."""
    if response.status_code == 413:
        return True
    result: bool | None = negative_data_rejection(ctx, response, case)
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, chdb_dsn: str) -> Iterator[str]:
    """The real app served by uvicorn on a loopback port, in a thread of this process."""
    database = f"test_{uuid.uuid4().hex[:12]}"
    app_settings = Settings(
        data_dir=tmp_path_factory.mktemp("conformance") / "data",
        store=StoreSettings(dsn=chdb_dsn, database=database),
    )
    port = _free_port()
    config = uvicorn.Config(
        create_app(app_settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-conformance", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "uvicorn exited while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 60 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture(scope="module")
def operation(base_url: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    return schema["/api/events"]["POST"]


def _for_demo_site(case: Any, now_ms: int) -> Any:
    """Point a generated batch at the demo site with current timestamps, so it can pass."""
    if isinstance(case.body, dict):
        case.body["site"] = "demo"
        for event in case.body.get("events") or []:
            if isinstance(event, dict):
                event["ts"] = now_ms
    return case


def test_the_served_document_is_valid_openapi_with_the_events_operation(operation: Any) -> None:
    assert operation.method.upper() == "POST"
    assert operation.path == "/api/events"


def test_generated_valid_requests_get_documented_answers_and_never_5xx(
    operation: Any, base_url: str
) -> None:
    answered: list[int] = []

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(), demo=st.booleans())
    def run(case: Any, demo: bool) -> None:
        if demo:
            _for_demo_site(case, int(time.time() * 1000))
        response = case.call(base_url=base_url, headers=HEADERS)
        case.validate_response(response, checks=CONFORMANCE, headers=HEADERS)
        answered.append(response.status_code)

    run()
    assert 202 in answered, f"no generated valid batch was accepted: {sorted(set(answered))}"
    assert 403 in answered, "no generated batch named an unknown site"


def test_generated_invalid_requests_are_refused_with_documented_answers(
    operation: Any, base_url: str
) -> None:
    answered: list[int] = []

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=HEADERS)
        case.validate_response(
            response, checks=[*CONFORMANCE, refuses_invalid_data], headers=HEADERS
        )
        answered.append(response.status_code)
        if response.status_code == 403:
            # A batch whose events are only partly invalid is parsed; its site is unknown.
            assert response.json()["error"] == "unknown_site"

    run()
    assert set(answered) <= {400, 403, 413, 415}, sorted(set(answered))
    assert 400 in answered


def test_the_document_lists_every_status_the_endpoint_answers(operation: Any) -> None:
    documented = set(operation.definition.raw["responses"])
    assert {"202", "400", "403", "413", "415", "429", "503"} <= documented
