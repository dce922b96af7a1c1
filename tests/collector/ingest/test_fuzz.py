"""Property-based fuzzing of POST /api/events through the real app, spool and embedded store.

Random bytes, random JSON shapes, hostile headers and batches that mix valid events with
events broken in one known way. Properties: never a 5xx; every refusal is a 4xx whose
body says what was wrong; a batch with any valid event is answered 202 and keeps exactly
its valid events; and after the writer flushes, the store holds every valid event sent
and nothing else. About 22,000 requests per run (FUZZ_SCALE multiplies them).
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clearsignal.settings import ServerSettings, Settings, StoreSettings
from collector.app import Services, create_app
from collector.ingest.drops import DropReason
from collector.ingest.wire import MAX_BODY_BYTES
from collector.rate_limit import RateLimiter
from tests.conftest import OPERATOR, OPERATOR_TOKEN
from tests.support.collector_app import app_services
from tests.support.site_requests import CHROME, HEADERS, ORIGIN

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
EVENT_TYPES = [
    "pageview", "click", "outbound", "download", "scroll", "engagement", "rage_click",
    "dead_click", "form_start", "form_submit", "form_abandon", "step", "custom",
]  # fmt: skip


def dumps(value: Any) -> bytes:
    """JSON of any value, integers beyond 64 bits included (orjson refuses those)."""
    return json.dumps(value, ensure_ascii=False).encode()


def fuzz_settings(examples: int) -> Any:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class Sent:
    """What the fuzzers sent that must be stored, and every id the app acknowledged."""

    def __init__(self) -> None:
        self.valid_ids: set[str] = set()
        self._ids = itertools.count()
        self._prefix = uuid.uuid4().hex[:6]

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._ids):010x}"


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, chdb_dsn: str) -> Iterator[TestClient]:
    database = f"test_{uuid.uuid4().hex[:12]}"
    app_settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz") / "data",
        store=StoreSettings(dsn=chdb_dsn, database=database),
        server=ServerSettings(metrics_token=OPERATOR_TOKEN),
    )
    with TestClient(create_app(app_settings), client=("198.51.100.4", 40000)) as client:
        services: Services = app_services(client)
        # One client sends everything here: lift the rate limits, which have tests of their own.
        services.pipeline.limits.client = RateLimiter(rate=1e9, burst=1e9)
        services.pipeline.limits.site = RateLimiter(rate=1e9, burst=1e9)
        services.pipeline.limits.address = RateLimiter(rate=1e9, burst=1e9)
        yield client
        services.store.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture(scope="module")
def sent() -> Sent:
    return Sent()


def assert_clear_refusal(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 202:
        return
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body["error"], str)
    assert body["error"]
    if response.status_code == 400:
        assert body["fields"], body
        for item in body["fields"]:
            assert item["field"], item
            assert item["error"], item
    else:
        assert body.get("detail"), body


# --- strategies -----------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
prop_keys = st.from_regex(r"\A[A-Za-z0-9_.:-]{1,40}\Z")
prop_values = (
    st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=200)
)
element_keys = st.sampled_from(["tag", "id", "role", "sel", "label", "href", "cs-step"])


@st.composite
def valid_events(draw: st.DrawFn, sent: Sent) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": sent.new_id(),
        "type": draw(st.sampled_from(EVENT_TYPES)),
        "ts": int(time.time() * 1000) - draw(st.integers(0, 3_600_000)),
        "url": draw(
            st.sampled_from(["http://127.0.0.1:8000/", "https://shop.example/p?utm_source=x&q=1"])
            | st.text(min_size=1, max_size=120)
        ),
    }
    if draw(st.booleans()):
        event["ref"] = draw(st.none() | st.text(max_size=120))
    if draw(st.booleans()):
        event["name"] = draw(st.none() | st.text(min_size=1, max_size=100))
    if draw(st.booleans()):
        event["props"] = draw(st.dictionaries(prop_keys, prop_values, max_size=6))
    if draw(st.booleans()):
        event["el"] = draw(st.dictionaries(element_keys, st.text(max_size=60), max_size=7))
    return event


def _break(event: dict[str, Any], how: str, junk: Any) -> Any:
    """The event broken in one way that the wire contract refuses."""
    broken = dict(event)
    match how:
        case "id":
            broken["id"] = junk if not (isinstance(junk, str) and len(junk) == 16) else "G" * 16
        case "id_upper":
            broken["id"] = "A" + broken["id"][1:].upper()
        case "type":
            broken["type"] = "teleport"
        case "ts_negative":
            broken["ts"] = -1
        case "ts_huge":
            broken["ts"] = 10**13 + 1
        case "ts_text":
            broken["ts"] = "yesterday"
        case "url_empty":
            broken["url"] = ""
        case "url_long":
            broken["url"] = "http://127.0.0.1:8000/" + "a" * 2000
        case "url_missing":
            del broken["url"]
        case "props_many":
            broken["props"] = {f"k{i}": i for i in range(21)}
        case "props_key":
            broken["props"] = {"bad key!": 1}
        case "props_nested":
            broken["props"] = {"nested": [junk]}
        case "props_long":
            broken["props"] = {"note": "x" * 201}
        case "el_key":
            broken["el"] = {"onclick": "alert(1)"}
        case "extra":
            broken["password"] = "hunter2"
        case "not_object":
            return junk if not isinstance(junk, dict) else [junk]
        case _:  # pragma: no cover
            raise AssertionError(how)
    return broken


BREAKS = [
    "id", "id_upper", "type", "ts_negative", "ts_huge", "ts_text", "url_empty", "url_long",
    "url_missing", "props_many", "props_key", "props_nested", "props_long", "el_key", "extra",
    "not_object",
]  # fmt: skip


@st.composite
def mixed_batches(draw: st.DrawFn, sent: Sent) -> tuple[dict[str, Any], list[int], list[str]]:
    """A demo-site batch, the indexes of its broken events and the ids of its valid ones."""
    size = draw(st.integers(1, 30))
    events: list[Any] = []
    broken: list[int] = []
    valid: list[str] = []
    for index in range(size):
        event = draw(valid_events(sent))
        if draw(st.integers(0, 2)) == 0:
            events.append(_break(event, draw(st.sampled_from(BREAKS)), draw(json_values)))
            broken.append(index)
        else:
            events.append(event)
            valid.append(event["id"])
    return {"site": "demo", "visitor": None, "events": events}, broken, valid


# --- properties -----------------------------------------------------------------------


@fuzz_settings(12_500)
@given(
    body=st.binary(max_size=2048),
    content_type=st.sampled_from(["text/plain", "application/json", "text/plain;charset=UTF-8"]),
)
def test_random_bytes_get_a_clear_4xx_never_a_5xx(
    app_client: TestClient, body: bytes, content_type: str
) -> None:
    response = app_client.post(
        "/api/events", content=body, headers={**HEADERS, "content-type": content_type}
    )
    assert_clear_refusal(response)
    assert response.status_code == 400


@fuzz_settings(4500)
@given(body=json_values, site=st.sampled_from(["demo", "nosuchsite", None]))
def test_random_json_shapes_never_get_a_5xx(
    app_client: TestClient, body: Any, site: str | None
) -> None:
    if isinstance(body, dict) and site is not None:
        body = {**body, "site": site}
    response = app_client.post("/api/events", content=dumps(body), headers=HEADERS)
    assert_clear_refusal(response)


@fuzz_settings(400)
@given(data=st.data())
def test_a_partly_bad_batch_keeps_exactly_its_valid_events(
    app_client: TestClient, sent: Sent, data: st.DataObject
) -> None:
    batch, broken, valid = data.draw(mixed_batches(sent))
    response = app_client.post("/api/events", content=dumps(batch), headers=HEADERS)
    assert_clear_refusal(response)
    if not valid:
        assert response.status_code == 400
        return
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == len(valid), answer
    if broken:
        assert answer["dropped"] == {DropReason.INVALID.value: len(broken)}
        assert [error["index"] for error in answer["errors"]] == broken
    else:
        assert answer["dropped"] == {}
        assert "errors" not in answer
    sent.valid_ids.update(valid)


@fuzz_settings(4500)
@given(
    origin=st.none() | st.sampled_from([ORIGIN, "null", "http://127.0.0.1:8000/x"]) | st.text(),
    referer=st.none() | st.text(),
    user_agent=st.sampled_from([CHROME, "", "curl/8.0", "Googlebot/2.1"]) | st.text(),
    extra=st.dictionaries(
        st.sampled_from(["sec-gpc", "dnt", "x-forwarded-for", "content-length-x"]),
        st.text(max_size=20),
    ),
    sent_events=st.integers(1, 3),
)
def test_hostile_headers_never_get_a_5xx(
    app_client: TestClient,
    sent: Sent,
    origin: str | None,
    referer: str | None,
    user_agent: str,
    extra: dict[str, str],
    sent_events: int,
) -> None:
    headers = {"content-type": "text/plain", "user-agent": user_agent, **extra}
    if origin is not None:
        headers["origin"] = origin
    if referer is not None:
        headers["referer"] = referer
    headers = {k: v for k, v in headers.items() if _sendable(v)}
    events = [
        {"id": sent.new_id(), "type": "click", "ts": int(time.time() * 1000), "url": "/x"}
        for _ in range(sent_events)
    ]
    body = dumps({"site": "demo", "events": events})
    response = app_client.post("/api/events", content=body, headers=headers)
    assert_clear_refusal(response)
    if response.status_code == 202 and response.json()["accepted"]:
        sent.valid_ids.update(event["id"] for event in events)


def _sendable(value: str) -> bool:
    """What an HTTP client can put in a header: printable ASCII, no surrounding blanks."""
    return value.isascii() and value.isprintable() and value == value.strip()


def test_bodies_over_the_limit_are_refused_with_413_even_without_a_length(
    app_client: TestClient,
) -> None:
    too_big = b'{"site": "demo", "events": [' + b" " * MAX_BODY_BYTES + b"]}"
    declared = app_client.post("/api/events", content=too_big, headers=HEADERS)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(too_big), 4096):
            yield too_big[start : start + 4096]

    streamed = app_client.post("/api/events", content=chunks(), headers=HEADERS)
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "too_large"


def test_after_the_flush_the_store_holds_every_valid_event_and_nothing_else(
    app_client: TestClient, sent: Sent
) -> None:
    # Runs after the fuzzers above in this module (pytest keeps file order).
    assert len(sent.valid_ids) > 1000, "the fuzzers above should have sent valid events"
    services: Services = app_services(app_client)
    services.writer.flush()
    stored = {event_id for (event_id,) in services.store.rows("SELECT event_id FROM events FINAL")}
    missing = sent.valid_ids - stored
    unexpected = stored - sent.valid_ids
    assert not missing, f"{len(missing)} valid events were not stored, e.g. {sorted(missing)[:5]}"
    assert not unexpected, f"{len(unexpected)} events stored that were not valid"
    assert services.store.scalar("SELECT count() FROM events FINAL") == len(sent.valid_ids)


def test_the_fuzzers_sent_tens_of_thousands_of_requests(app_client: TestClient) -> None:
    metrics = app_client.get("/metrics", headers=OPERATOR).text
    answered = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("clearsignal_ingest_request_seconds_count")
    )
    print(f"POST /api/events requests answered in this module: {answered:,.0f}")
    assert answered >= 20_000 * SCALE
