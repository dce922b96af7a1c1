"""A quiet server's engine at rest: ``clearsignal serve`` with the embedded engine in a
process of its own (``engine_idle_seconds``) stops it once its jobs have nothing new to
read, starts it for the next events, and stores them."""

from __future__ import annotations

from pathlib import Path

from aggregator.store.client import open_store
from tests.support.senders import Senders, wait_for
from tests.support.serve import Serve


def engines(serve: Serve) -> list[int]:
    """The serve process's children running the engine."""
    assert serve.process is not None
    found = []
    for task in Path(f"/proc/{serve.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"engine_host" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def test_a_quiet_servers_engine_rests_and_wakes_for_events(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path}/ch?engine_idle_seconds=2"
    serve = Serve(tmp_path / "data", env={"CLEARSIGNAL_STORE__DSN": dsn})
    serve.start()
    try:
        # The jobs' first runs over, and the second round the first's writes call for.
        wait_for(lambda: engines(serve) == [], 120, "the engine at rest")
        assert serve.readyz()[0] == 200  # ready while at rest (test_engine_process: unwoken)
        with Senders(serve.port, threads=1) as senders:
            wait_for(lambda: senders.count() >= 50, 60, "50 acknowledged events")
        wait_for(lambda: len(engines(serve)) == 1, 30, "the engine started for the events")
        wait_for(lambda: serve.readyz()[1].get("spool_backlog_bytes") == 0, 60, "stored")
        wait_for(lambda: engines(serve) == [], 120, "the engine at rest again")
    finally:
        serve.stop()
    store = open_store(dsn, "clearsignal")
    try:
        stored = {row[0] for row in store.rows("SELECT event_id FROM events")}
    finally:
        store.close()
    assert senders.acknowledged <= stored
