"""The wire form of a server event's time: RFC 3339 with an offset, nothing else, read the
same from a JSON body, an NDJSON line and an imported record."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from collector.ingest.server_events.kinds import SERVER_EVENT
from collector.ingest.server_events.parse import event_errors, parse_body


def _event(at: object) -> dict[str, object]:
    return {"id": "e1", "customer": "c1", "at": at, "kind": "complaint", "category": "late"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-06T10:15:00Z", datetime(2026, 12, 6, 10, 15, tzinfo=UTC)),
        ("2026-12-06T11:15:00+01:00", datetime(2026, 12, 6, 10, 15, tzinfo=UTC)),
        ("2026-12-06T10:15:00.5-00:30", datetime(2026, 12, 6, 10, 45, 0, 500_000, tzinfo=UTC)),
        ("2026-12-06T10:15:00.123456Z", datetime(2026, 12, 6, 10, 15, 0, 123_000, tzinfo=UTC)),
    ],
)
def test_an_rfc3339_time_becomes_milliseconds_since_the_epoch(
    text: str, expected: datetime
) -> None:
    want = int(expected.timestamp() * 1000)
    assert SERVER_EVENT.validate_json(json.dumps(_event(text))).at == want
    assert SERVER_EVENT.validate_python(_event(text)).at == want


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1796551200, "an RFC 3339 time with a UTC offset"),  # seconds or milliseconds?
        ("1796551200000", "an RFC 3339 time with a UTC offset"),
        ("2026-12-06T10:15:00", "an RFC 3339 time with a UTC offset"),  # no offset
        ("2026-12-06", "an RFC 3339 time with a UTC offset"),
        ("2026-12-06 10:15:00Z", "an RFC 3339 time with a UTC offset"),
        ("06/12/2026 10:15", "an RFC 3339 time with a UTC offset"),
        (None, "an RFC 3339 time with a UTC offset"),
        ("2026-02-30T10:15:00Z", "is not a date and time that exists"),
        ("2026-12-06T25:15:00Z", "is not a date and time that exists"),
    ],
)
def test_anything_else_is_a_field_error_on_at(value: object, message: str) -> None:
    body = _event(value)
    for validate, raw in (
        (SERVER_EVENT.validate_python, body),
        (SERVER_EVENT.validate_json, json.dumps(body)),
    ):
        with pytest.raises(ValidationError) as refused:
            validate(raw)
        [error] = event_errors(refused.value)
        assert error["field"] == "at"
        assert message in error["error"]


def test_a_bad_time_refuses_only_its_own_line() -> None:
    lines = [json.dumps(_event("2026-12-06T10:15:00Z")), json.dumps(_event("yesterday"))]
    parsed = parse_body("\n".join(lines).encode(), "application/x-ndjson", "demo")
    assert [index for index, _ in parsed.events] == [0]
    assert parsed.errors == [
        {"index": 1, "fields": [{"field": "at", "error": parsed.errors[0]["fields"][0]["error"]}]}
    ]
    assert "RFC 3339" in parsed.errors[0]["fields"][0]["error"]
