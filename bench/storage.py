"""Bytes per stored event: load N realistic events into the events table, read system.parts.

    .venv/bin/python bench/storage.py [--events 1000000]

Rows go in the real pipeline's row shape (``collector.ingest.rows``), encoded as the real
writer sends them, into the embedded engine, in a temporary data dir. The mix: 50k
visitors with 128-bit hex keys, 300 pages with utm parameters on some, a referrer on a
quarter, 0-4 props, element descriptors on clicks, 13 event types. After
``OPTIMIZE TABLE events FINAL`` (what background merges converge to), system.parts gives
the compressed and uncompressed bytes; the spool's record size is measured on a sample.
Used by docs/scaling.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.store.client import open_store
from aggregator.store.migrations import migrate
from collector.ingest.rows import EVENT_COLUMNS, ROW_FORMAT, clickhouse_time, rows_json
from collector.ingest.spool_format import encode

TYPES = ["pageview"] * 6 + ["click"] * 4 + ["scroll", "engagement", "custom", "step"]
DEVICES = ["desktop", "mobile", "mobile", "tablet"]
BROWSERS = ["Chrome", "Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"]


def make_rows(count: int, seed: int = 7) -> list[list[object]]:
    rng = random.Random(seed)
    pages = [
        f"/{rng.choice(['p', 'c', 'blog', 'help'])}/{rng.randrange(10_000)}" for _ in range(300)
    ]
    visitors = [f"{rng.getrandbits(128):032x}" for _ in range(50_000)]
    now_ms = int(time.time() * 1000)
    rows: list[list[object]] = []
    for _ in range(count):
        path = rng.choice(pages)
        query = f"?utm_source=news&utm_campaign=c{rng.randrange(40)}" if rng.random() < 0.2 else ""
        event_type = rng.choice(TYPES)
        props = {f"k{j}": str(rng.randrange(1000)) for j in range(rng.randrange(5))}
        element = (
            {"tag": "button", "label": f"Buy {rng.randrange(50)}", "sel": f"#b{rng.randrange(99)}"}
            if event_type == "click"
            else {}
        )
        ts = now_ms - rng.randrange(86_400_000)
        rows.append(
            [
                "demo",
                rng.choice(visitors),
                rng.choice(["measurement", "measurement", "analytics"]),
                f"{rng.getrandbits(64):016x}",
                event_type,
                f"step-{rng.randrange(5)}" if event_type in ("custom", "step") else "",
                clickhouse_time(ts),
                f"https://shop.example{path}{query}",
                path,
                "https://www.search.example" if rng.random() < 0.25 else "",
                props,
                element,
                rng.choice(DEVICES),
                rng.choice(BROWSERS),
                clickhouse_time(ts + rng.randrange(2000)),
                ts // 1000 + 180 * 86_400,
            ]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="clearsignal-storage-"))
    try:
        store = open_store(f"chdb://{workdir / 'clickhouse'}", "bench")
        migrate(store)
        sample = make_rows(20_000, seed=1)
        spool_bytes = sum(len(encode(sample[i : i + 20])) for i in range(0, len(sample), 20))
        loaded = 0
        while loaded < args.events:
            size = min(200_000, args.events - loaded)
            rows_of_events = rows_json(make_rows(size, seed=loaded))
            store.insert_formatted("events", EVENT_COLUMNS, rows_of_events, ROW_FORMAT)
            loaded += size
        store.command("OPTIMIZE TABLE events FINAL")
        rows, on_disk, compressed, uncompressed = store.rows(
            "SELECT sum(rows), sum(bytes_on_disk), sum(data_compressed_bytes), "
            "sum(data_uncompressed_bytes) FROM system.parts "
            "WHERE database = currentDatabase() AND table = 'events' AND active"
        )[0]
        store.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"events loaded: {loaded:,}; rows in active parts: {rows:,}")
    print(f"bytes on disk per event: {on_disk / rows:.1f}")
    print(f"compressed bytes per event: {compressed / rows:.1f}")
    print(f"uncompressed bytes per event: {uncompressed / rows:.1f}")
    print(f"compression ratio: {uncompressed / compressed:.1f}x")
    print(f"spool bytes per event (20-event records): {spool_bytes / len(sample):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
