"""Server events from an export file (``clearsignal import server-events``): NDJSON, one
event a line, or CSV with a header naming the fields (an empty cell is an absent field).
Read in chunks, each record checked on its own like a request's events, with its line
number for the report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from collector.ingest.server_events.kinds import SERVER_EVENT, ServerEvent
from collector.ingest.server_events.parse import event_errors

__all__ = ["Chunk", "read_chunks"]


@dataclass
class Chunk:
    events: list[tuple[int, ServerEvent]] = field(default_factory=list)
    """Valid events with their line number (1-based; a CSV's header is line 1)."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    bytes_read: int = 0


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {name: value for name, value in row.items() if value != ""}
    if record.get("v") == "1":
        record["v"] = 1
    return record


def _records(path: Path, handle: IO[str]) -> Iterator[tuple[int, int, Any]]:
    """(line, bytes, record or raw line) for each record of the file."""
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, sum(len(v or "") + 1 for v in row.values()), _csv_record(row)
    else:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, len(line.encode()), line


def read_chunks(path: Path, size: int = 5000) -> Iterator[Chunk]:
    with path.open(encoding="utf-8", newline="") as handle:
        chunk = Chunk()
        for line, read, record in _records(path, handle):
            chunk.bytes_read += read
            try:
                if isinstance(record, str):
                    event = SERVER_EVENT.validate_json(record)
                else:
                    event = SERVER_EVENT.validate_python(record)
            except ValidationError as exc:
                chunk.errors.append({"index": line, "fields": event_errors(exc)})
            else:
                chunk.events.append((line, event))
            if len(chunk.events) + len(chunk.errors) >= size:
                yield chunk
                chunk = Chunk()
        if chunk.events or chunk.errors:
            yield chunk
