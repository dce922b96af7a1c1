"""Event rows as the collector spools them, for tests of the writer and the store."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from collector.ingest.rows import EVENT_COLUMNS, clickhouse_time
from collector.ingest.spool import Spool
from tests.support.event_loop import run_coroutine

__all__ = ["NOW_MS", "event_row", "spool_rows"]

# Now, with a millisecond part: rows past their expiry would be dropped by the table's TTL.
NOW_MS = int(time.time()) * 1000 + 123


def event_row(event_id: str, ts_ms: int = NOW_MS, **columns: Any) -> list[Any]:
    values: dict[str, Any] = {
        "site": "demo",
        "visitor_key": "k" * 32,
        "identity": "measurement",
        "event_id": event_id,
        "type": "click",
        "name": "",
        "ts": clickhouse_time(ts_ms),
        "url": "https://shop.example/p?utm_source=x",
        "path": "/p",
        "referrer": "",
        "props": {"n": "1"},
        "element": {"tag": "button", "label": "Buy"},
        "device": "desktop",
        "browser": "Chrome",
        "ingested_at": clickhouse_time(ts_ms + 250),
        "expires_at": ts_ms // 1000 + 86_400,
        "os": "Linux",
        "country": "DE",
    }
    values.update(columns)
    return [values[column] for column in EVENT_COLUMNS]


def spool_rows(spool: Spool, *batches: list[list[Any]]) -> None:
    async def run() -> None:
        await asyncio.gather(*(spool.append(batch) for batch in batches))

    run_coroutine(run())
