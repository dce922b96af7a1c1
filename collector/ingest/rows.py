"""The stored shape of an event: a row of the ``events`` table, encoded once for ClickHouse.

A row is a list in ``EVENT_COLUMNS`` order whose values are already what ClickHouse's
``JSONCompactEachRow`` input format reads: strings, maps as JSON objects, ``DateTime64``
as ``"seconds.milliseconds"`` text (ClickHouse reads a bare integer as seconds), and
``DateTime`` as whole seconds. The pipeline builds rows, the spool keeps them as JSON,
and the writer hands the JSON to ClickHouse untouched: no event is decoded or converted
again in Python between the request and the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

__all__ = ["EVENT_COLUMNS", "ROW_FORMAT", "ROW_SETTINGS", "clickhouse_time", "rows_json"]

# The column order of a row, as in the events table (migrations 0001 and 0023).
EVENT_COLUMNS = (
    "site", "visitor_key", "identity", "event_id", "type", "name", "ts", "url", "path",
    "referrer", "props", "element", "device", "browser", "ingested_at", "expires_at",
    "os", "country",
)  # fmt: skip

ROW_FORMAT = "JSONCompactEachRow"
ROW_SETTINGS = {"input_format_json_compact_allow_variable_number_of_columns": 1}
"""Every insert of rows: a row spooled before ``os`` and ``country`` were added is shorter,
and stores them as ''."""


def clickhouse_time(ms: int) -> str:
    """Milliseconds since the epoch as ``DateTime64(3)`` input text: ``"1733400000.123"``.

    Exact for every timestamp the wire admits (< 10^13 ms): ``ms / 1000`` then has at most
    13 significant digits, well within a double's 15, so rounding to 3 decimals gives ``ms``
    back (checked against integer arithmetic in tests/collector/ingest/test_rows.py).
    """
    return f"{ms / 1000:.3f}"


def rows_json(rows: Sequence[Sequence[Any]]) -> bytes:
    """Rows as ``JSONCompactEachRow`` input: one JSON array per row, comma-separated."""
    return orjson.dumps(rows)[1:-1]
