"""The embedded engine in a process of its own, running while the store is in use.

With ``engine_idle_seconds`` in a ``chdb://`` DSN, the engine does not run inside the
process that opens the store: ``EngineProcess`` starts it as a child
(``aggregator.store.engine_host``, ClickHouse's HTTP interface on a loopback port, with a
key of this start's own) at the first statement, and stops it once no statement has
run for that many seconds (0: never). The next statement starts it again, on the same
data. What that buys is memory: opened on a store of millions of events, the engine
holds some 100 MB of private memory for as long as it runs, whatever its settings, and a
small server spends most of its time waiting for the next event (docs/configuration.md,
"A small server"). A child killed by the system for its memory is started again too;
the process that serves the pages and the spool keeps running.

``EngineClient`` is what a ``Store`` holds in place of clickhouse-connect's client: each
call runs on a client of the engine's current start, and counts as use. Every store of
one data directory in a process shares one ``EngineProcess`` (``engine_for``): the
engine allows one process per directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from aggregator.errors import StoreError, StoreUnavailable

__all__ = ["LOCK_FILE", "EngineClient", "EngineProcess", "bookkeeping", "engine_for"]

LOCK_FILE = "clearsignal-engine.lock"
START_SECONDS = 120.0
"""How long a start may take: the engine loads every part's metadata before it answers."""
STOP_SECONDS = 30.0


class EngineProcess:
    """The child running the engine over ``path``, started and stopped as needed."""

    def __init__(self, path: str, options: dict[str, str], idle_seconds: float) -> None:
        self.path = path
        self._options = options
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._key = ""
        self._in_use = 0
        self._last_used = time.monotonic()
        self._closed = threading.Event()
        self._failed = False  # the last start
        self.starts = 0
        """How many times the engine was started: a client made for an earlier start is
        made again."""
        self.users = 0
        self.writes = 0
        """Statements that may have written, run through this process's clients outside
        ``bookkeeping``: while this process holds the directory, nothing else writes it."""
        self._writes_lock = threading.Lock()
        self._directory = _DirectoryLock(path)
        if idle_seconds > 0:
            threading.Thread(target=self._stop_when_idle, daemon=True).start()

    def wrote(self) -> None:
        with self._writes_lock:
            self.writes += 1

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    @property
    def resting(self) -> bool:
        """Started before, and stopped since for want of use (not for a failed start)."""
        return (
            self.starts > 0 and not self._failed and not self.running and not self._closed.is_set()
        )

    @property
    def pid(self) -> int | None:
        return self._child.pid if self.running and self._child else None

    @contextmanager
    def used(self) -> Iterator[tuple[int, str, int]]:
        """The running engine's port, key and start number, for one call."""
        with self._lock:
            if self._closed.is_set():
                raise StoreUnavailable(f"the engine over {self.path} is closed")
            if not self.running:
                self._stop()  # one that died: its pipes closed, its status collected
                self._start()
            self._in_use += 1
            where = (self._port, self._key, self.starts)
        try:
            yield where
        finally:
            with self._lock:
                self._in_use -= 1
                self._last_used = time.monotonic()

    def _start(self) -> None:
        key = secrets.token_urlsafe(24)
        child = subprocess.Popen(
            [sys.executable, "-m", "aggregator.store.engine_host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None  # piped
        config = {"path": self.path, "options": self._options, "key": key}
        child.stdin.write(json.dumps(config).encode() + b"\n")
        child.stdin.flush()
        answer = _first_line(child, START_SECONDS)
        self._failed = not answer.startswith("listening ")
        if self._failed:
            _end(child)
            raise StoreUnavailable(
                f"the engine over {self.path} did not start (exit status {child.poll()})"
            )
        self._child, self._port, self._key = child, int(answer.split()[1]), key
        self.starts += 1

    def stop(self) -> None:
        """Stop the engine (the next statement starts it again)."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._child is not None:
            _end(self._child)
            self._child = None

    def close(self) -> None:
        self._closed.set()
        self.stop()
        self._directory.release()

    def _stop_when_idle(self) -> None:
        while not self._closed.wait(min(1.0, self._idle_seconds)):
            with self._lock:
                quiet = time.monotonic() - self._last_used >= self._idle_seconds
                if self.running and self._in_use == 0 and quiet:
                    self._stop()


def _first_line(child: subprocess.Popen[bytes], seconds: float) -> str:
    """The child's first line of output, or '' if it says nothing in ``seconds``."""
    found: list[bytes] = []
    reader = threading.Thread(target=lambda: found.append(child.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(seconds)
    return found[0].decode().strip() if found else ""


def _end(child: subprocess.Popen[bytes]) -> None:
    """Close the child's input (it stops when its input ends) and wait for it."""
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()
    child.terminate()
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class _DirectoryLock:
    """This process's hold on the data directory, for as long as it may start the engine
    there: while the engine is stopped, the directory is free of the engine's own lock,
    and another process (a second server, a command line tool) would open it."""

    def __init__(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        self._file = open(os.path.join(path, LOCK_FILE), "a+")  # noqa: SIM115
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise StoreError(
                f"the embedded store at {path} is in use by process {holder}: the engine "
                "allows one process per data directory"
            ) from None
        self._file.truncate(0)
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        if not self._file.closed:
            self._file.close()  # and the lock with it


@contextmanager
def bookkeeping() -> Iterator[None]:
    """Writes in this block, in this thread, are the process's own records (a job's run,
    the job lease, memory given back), not news a job waits for (``EngineProcess.writes``)."""
    _local.bookkeeping = getattr(_local, "bookkeeping", 0) + 1
    try:
        yield
    finally:
        _local.bookkeeping -= 1


_local = threading.local()
_ENGINES: dict[str, EngineProcess] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(path: str, options: dict[str, str], idle_seconds: float) -> EngineProcess:
    """This process's engine over ``path`` (made on first use), with one more user."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(path)
        if engine is None:
            engine = _ENGINES[path] = EngineProcess(path, options, idle_seconds)
        engine.users += 1
        return engine


def _release(engine: EngineProcess) -> None:
    with _ENGINES_LOCK:
        engine.users -= 1
        if engine.users == 0 and _ENGINES.get(engine.path) is engine:
            del _ENGINES[engine.path]
            engine.close()


class EngineClient:
    """The calls a ``Store`` makes on its client, each on the engine's current start."""

    def __init__(self, engine: EngineProcess, database: str | None) -> None:
        self.engine = engine
        self._engine = engine
        self._database = database
        self._client: Client | None = None
        self._made_for = 0
        self._lock = threading.Lock()

    def _call(self, method: Callable[[Client], Any]) -> Any:
        with self._engine.used() as (port, key, start):
            with self._lock:
                if self._client is None or self._made_for != start:
                    if self._client is not None:
                        self._client.close()
                    self._client = clickhouse_connect.get_client(
                        host="127.0.0.1",
                        port=port,
                        username="default",
                        password=key,
                        database=self._database,
                        tz_mode="aware",
                        compress=False,  # loopback: nothing to save, and time to spend
                        autogenerate_session_id=False,
                        connect_timeout=5,
                        send_receive_timeout=3600,
                    )
                    self._made_for = start
                client = self._client
            return method(client)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(lambda client: client.query(*args, **kwargs))

    def _write(self, method: Callable[[Client], Any]) -> Any:
        if not getattr(_local, "bookkeeping", 0):
            self._engine.wrote()
        return self._call(method)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        return self._write(lambda client: client.command(*args, **kwargs))

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        return self._write(lambda client: client.insert(*args, **kwargs))

    def raw_insert(self, *args: Any, **kwargs: Any) -> Any:
        return self._write(lambda client: client.raw_insert(*args, **kwargs))

    def query_arrow(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(lambda client: client.query_arrow(*args, **kwargs))

    def insert_arrow(self, *args: Any, **kwargs: Any) -> Any:
        return self._write(lambda client: client.insert_arrow(*args, **kwargs))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        _release(self._engine)
