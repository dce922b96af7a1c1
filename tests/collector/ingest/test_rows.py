"""The stored row's encoding: timestamps exact to the millisecond, rows as ClickHouse reads them."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from collector.ingest.rows import clickhouse_time, rows_json


@given(st.integers(min_value=0, max_value=10**13))
def test_clickhouse_time_is_exact_for_every_timestamp_the_wire_admits(ms: int) -> None:
    seconds, millis = divmod(ms, 1000)
    assert clickhouse_time(ms) == f"{seconds}.{millis:03d}"


def test_clickhouse_time_at_the_edges() -> None:
    assert clickhouse_time(0) == "0.000"
    assert clickhouse_time(999) == "0.999"
    assert clickhouse_time(1_733_400_000_001) == "1733400000.001"
    assert clickhouse_time(10**13) == "10000000000.000"


def test_rows_json_is_comma_separated_json_arrays() -> None:
    rows = [["a", {"k": "v"}, 1], ["b", {}, 2]]
    encoded = rows_json(rows)
    assert encoded == b'["a",{"k":"v"},1],["b",{},2]'
    assert orjson.loads(b"[" + encoded + b"]") == rows
    assert rows_json([]) == b""
