"""The embedded engine in a process of its own (``engine_idle_seconds`` in the DSN): it
answers as the engine does in the process, stops when unused and starts again with the
data, holds its directory against other processes, and ends with the process that
started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.errors import StoreError
from aggregator.jobs.runner import Job, JobContext, JobResult, JobRunner
from aggregator.store.client import Store, open_store
from aggregator.store.engine_process import EngineProcess
from aggregator.store.migrations import migrate
from tests.support.event_history import COLUMNS, NOW, Visitor

ROOT = Path(__file__).resolve().parents[3]


def engine_of(store: Store) -> EngineProcess:
    engine: EngineProcess = store._client.engine  # type: ignore[attr-defined]
    return engine


def wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def own_process(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"chdb://{tmp_path}/ch?engine_idle_seconds=1&max_threads=1", "cs")
    migrate(store)
    yield store
    store.close()


def test_it_answers_as_the_engine_in_the_process_does(own_process: Store) -> None:
    visitor = Visitor("v" * 32)
    visitor.add(NOW, path="/demo/pricing", props={"plan": "pro"})
    visitor.add(NOW + timedelta(minutes=1), "step", name="cart")
    own_process.insert("events", visitor.events, COLUMNS)
    rows = own_process.rows(
        "SELECT type, path, props, ts, identity FROM events "
        "WHERE visitor_key = {key:String} ORDER BY ts",
        {"key": visitor.key},
    )
    assert rows == [
        ("pageview", "/demo/pricing", {"plan": "pro"}, NOW, "analytics"),
        ("step", "/demo/", {}, NOW + timedelta(minutes=1), "analytics"),
    ]
    own_process.insert_formatted(
        "salts", ["day", "salt"], b'{"day": "2026-11-20", "salt": "ab"}\n', "JSONEachRow"
    )
    assert own_process.scalar("SELECT salt FROM salts") == "ab"
    assert own_process.setting("max_threads") == "1"  # the DSN's settings reach the engine
    ids = [f"case-{n:015d}" for n in range(1000)]  # parameters too long for a URL: a form
    assert own_process.scalar("SELECT length({ids:Array(String)})", {"ids": ids}) == 1000
    with pytest.raises(StoreError) as refused:
        own_process.rows("SELECT no_such_function(1)")
    assert refused.value.code == 46  # the engine's error code, as over HTTP
    counts: list[int] = []

    def count() -> None:
        for _ in range(10):
            counts.append(int(own_process.scalar("SELECT count() FROM events")))

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [2] * 40


def test_a_request_without_the_key_is_refused(own_process: Store) -> None:
    with engine_of(own_process).used() as (port, key, _):
        for password in ("", key[::-1]):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/",
                data=b"SELECT 1",
                headers={"X-ClickHouse-User": "default", "X-ClickHouse-Key": password},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            refused.value.close()
            assert refused.value.code == 403


def test_the_engine_stops_when_unused_and_starts_again_with_the_data(
    own_process: Store,
) -> None:
    engine = engine_of(own_process)
    own_process.insert("salts", [(datetime(2026, 11, 20).date(), "cd")], ["day", "salt"])
    first = engine.pid
    assert first is not None
    wait_for(lambda: not engine.running, 10)
    assert not Path(f"/proc/{first}").exists()
    assert own_process.ping()  # resting, not failing: no start for a health check
    assert not engine.running
    assert own_process.scalar("SELECT salt FROM salts") == "cd"
    assert engine.running
    assert engine.starts == 2


def test_an_engine_killed_by_the_system_is_started_again(own_process: Store) -> None:
    engine = engine_of(own_process)
    assert own_process.scalar("SELECT 1") == 1
    assert engine.pid is not None
    os.kill(engine.pid, signal.SIGKILL)
    wait_for(lambda: not engine.running, 10)
    assert own_process.scalar("SELECT count() FROM job_runs") == 0
    assert engine.starts == 2


def test_another_process_is_refused_the_directory(own_process: Store, tmp_path: Path) -> None:
    own_process.scalar("SELECT 1")
    wait_for(lambda: not engine_of(own_process).running, 10)  # stopped: the engine's lock gone
    opened = subprocess.run(
        [sys.executable, "-c", OPEN_AND_COUNT, f"{tmp_path}/ch?engine_idle_seconds=1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert opened.returncode != 0
    assert f"is in use by process {os.getpid()}" in opened.stderr


OPEN_AND_COUNT = """
import sys, time
from aggregator.store.client import open_store
store = open_store("chdb://" + sys.argv[1], "cs")
print(store.scalar("SELECT count() FROM system.tables"), flush=True)
print(store._client.engine.pid, flush=True)
time.sleep(600)
"""


def test_the_engine_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", OPEN_AND_COUNT, f"{tmp_path}/ch?engine_idle_seconds=0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert parent.stdout is not None
    parent.stdout.readline()
    engine_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait(30)
    parent.stdout.close()
    wait_for(lambda: not Path(f"/proc/{engine_pid}").exists(), 30)
    store = open_store(f"chdb://{tmp_path}/ch?engine_idle_seconds=0", "cs")
    try:
        assert store.scalar("SELECT 1") == 1  # the directory is free again
    finally:
        store.close()


def test_a_job_that_waits_for_writes_runs_only_after_one(own_process: Store) -> None:
    runs: list[str] = []
    due = [False]

    def look(_: JobContext) -> JobResult:
        runs.append(own_process.scalar("SELECT toString(count()) FROM salts"))
        return JobResult()

    job = Job("x.look", "look", 60, look, after_writes=True, due=lambda: due[0])
    runner = JobRunner(own_process, [job])
    assert runner.run_scheduled("x.look") is not None  # the first run: nothing seen yet
    assert runner.run_scheduled("x.look") is None  # its own run recorded: bookkeeping
    with own_process.bookkeeping():
        own_process.insert("salts", [(NOW.date(), "ef")], ["day", "salt"])
    assert runner.run_scheduled("x.look") is None
    own_process.insert("salts", [(NOW.date() + timedelta(days=1), "gh")], ["day", "salt"])
    assert runner.run_scheduled("x.look") is not None
    assert runner.run_scheduled("x.look") is None
    due[0] = True
    assert runner.run_scheduled("x.look") is not None
    assert runs == ["0", "2", "2"]
    assert own_process.scalar("SELECT count() FROM job_runs") == 3
    assert isinstance(own_process.scalar("SELECT max(started_at) FROM job_runs"), datetime)
    assert datetime.now(UTC) - own_process.scalar("SELECT max(finished_at) FROM job_runs") < (
        timedelta(minutes=1)
    )
