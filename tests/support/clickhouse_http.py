"""A real ClickHouse HTTP endpoint on loopback, for tests only.

``ClickHouseHttpServer`` runs the full ClickHouse engine from the ``chdb-core`` wheel
in a child process (``_clickhouse_http_runner.py``) and opens ClickHouse's own HTTP
listener on 127.0.0.1, so clickhouse-connect's HTTP code path is exercised for real.
The recipe and its measurements: /work/shared/notes/clickhouse-http-test-server.md.

It relies on chDB's private ``_chdb.query`` entry point; when that is gone,
``start()`` raises ``ClickHouseHttpUnavailable`` and fixtures should ``pytest.skip``.

Layout of ``data_dir`` (kept across restarts)::

    config.xml           listen host and port, read by the child from its cwd
    clickhouse/          the database files
    clickhouse-http.log  the child's stdout and stderr, appended on every start

Exceptions::

    ClickHouseHttpError
     ├── ClickHouseHttpUnavailable   chDB or its private entry point is missing
     └── ClickHouseHttpStartupError  the endpoint did not come up; carries the log tail
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self

import clickhouse_connect
from clickhouse_connect.driver.exceptions import Error as ClickHouseClientError

from ._clickhouse_http_runner import EXIT_ENTRY_POINT_MISSING

__all__ = [
    "ClickHouseHttpError",
    "ClickHouseHttpServer",
    "ClickHouseHttpStartupError",
    "ClickHouseHttpUnavailable",
]

_RUNNER = Path(__file__).with_name("_clickhouse_http_runner.py")
_LOG_TAIL_CHARS = 4000
_POLL_SECONDS = 0.05

# Once the keep-alive query ends, the engine waits for idle HTTP keep-alive
# connections to time out (default 30 s), and after about 5 s exits with status 1
# instead. 3 s, ClickHouse's default for years, lets it stop cleanly.
# shutdown_wait_unfinished bounds the wait for running queries (default 120 s here).
_KEEP_ALIVE_TIMEOUT_SECONDS = 3
_CONFIG_XML = """\
<clickhouse>
    <listen_host>{host}</listen_host>
    <http_port>{port}</http_port>
    <keep_alive_timeout>{keep_alive_timeout}</keep_alive_timeout>
    <shutdown_wait_unfinished>2</shutdown_wait_unfinished>
{extra}</clickhouse>
"""


class ClickHouseHttpError(Exception):
    """Base class of this module's errors."""


class ClickHouseHttpUnavailable(ClickHouseHttpError):
    """chDB, or the private entry point that opens the HTTP listener, is missing."""


class ClickHouseHttpStartupError(ClickHouseHttpError):
    """The endpoint did not answer in time, or its process exited while starting."""


def _free_loopback_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class ClickHouseHttpServer:
    """ClickHouse's HTTP interface on ``127.0.0.1:port``, backed by ``data_dir``.

    The port is fixed at construction (a free one is picked when ``port`` is 0) and
    stays the same across ``stop()``/``start()``; so does the data. Use it as a
    context manager, or call ``start()`` and ``stop()``.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        data_dir: Path,
        port: int = 0,
        *,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        tcp_port: int | None = None,
        extra_config: str = "",
    ) -> None:
        """``tcp_port`` (0: a free one) opens the native protocol too; ``extra_config``
        is XML added inside ``<clickhouse>`` (a cluster's ``<remote_servers>``)."""
        self.data_dir = Path(data_dir).resolve()
        self.port = port or _free_loopback_port(self.host)
        self.tcp_port = None if tcp_port is None else tcp_port or _free_loopback_port(self.host)
        self.extra_config = extra_config
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.last_startup_seconds: float | None = None
        """Seconds the last successful ``start()`` took, until ``SELECT 1`` answered."""
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._marker = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "clickhouse"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "clickhouse-http.log"

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs, else None."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the child and return once the endpoint answers queries."""
        if self.is_running():
            return
        self._close_process_handles()
        if importlib.util.find_spec("chdb") is None:
            raise ClickHouseHttpUnavailable("chdb-core is not installed")
        started = time.monotonic()
        self._spawn()
        try:
            self._wait_until_ready(deadline=started + self.startup_timeout)
        except BaseException:
            self._terminate(graceful=False)
            self._close_process_handles()
            raise
        self.last_startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Stop the child gracefully (KILL QUERY, then SIGTERM, then SIGKILL) and wait."""
        if self.is_running():
            self._terminate()
        self._close_process_handles()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<ClickHouseHttpServer {self.url} {state} data_dir={self.data_dir}>"

    def _spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        extra = self.extra_config
        if self.tcp_port is not None:
            extra = f"    <tcp_port>{self.tcp_port}</tcp_port>\n{extra}"
        (self.data_dir / "config.xml").write_text(
            _CONFIG_XML.format(
                host=self.host,
                port=self.port,
                keep_alive_timeout=_KEEP_ALIVE_TIMEOUT_SECONDS,
                extra=extra,
            ),
            encoding="utf-8",
        )
        self._marker = f"clearsignal_http_keepalive_{uuid.uuid4().hex}"
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- starting on {self.url}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    str(_RUNNER),
                    str(self.database_path),
                    self._marker,
                    str(os.getpid()),
                    "HTTP",
                    *(["TCP"] if self.tcp_port is not None else []),
                ],
                cwd=self.data_dir,
                stdin=subprocess.PIPE,  # its EOF tells the child that we died
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # a Ctrl-C in the test run reaches us, not the child
            )

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._process is not None
        while True:
            returncode = self._process.poll()
            if returncode == EXIT_ENTRY_POINT_MISSING:
                raise ClickHouseHttpUnavailable(
                    f"chDB's private _chdb.query entry point is not usable:\n{self._log_tail()}"
                )
            if returncode is not None:
                raise ClickHouseHttpStartupError(
                    f"the ClickHouse HTTP process exited ({_exit_reason(returncode)}) while "
                    f"starting on {self.url}; log {self.log_path}:\n{self._log_tail()}"
                )
            if self._answers_ping() and self._answers_select_one():
                return
            if time.monotonic() > deadline:
                raise ClickHouseHttpStartupError(
                    f"ClickHouse HTTP did not answer on {self.url} within "
                    f"{self.startup_timeout:.0f} s; log {self.log_path}:\n{self._log_tail()}"
                )
            time.sleep(_POLL_SECONDS)

    def _answers_ping(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as response:
                return bool(response.read() == b"Ok.\n")
        except OSError:  # URLError, connection refused or reset, timeout
            return False

    def _answers_select_one(self) -> bool:
        try:
            # A pool of its own, closed below: a connection left in the shared pool
            # would hold up the next stop() for the keep-alive timeout.
            client = clickhouse_connect.get_client(
                host=self.host, port=self.port, connect_timeout=2, dedicated_pool=True
            )
        except ClickHouseClientError as error:
            raise ClickHouseHttpStartupError(
                f"{self.url} answers /ping, but clickhouse-connect cannot use it: {error}\n"
                f"log {self.log_path}:\n{self._log_tail()}"
            ) from error
        try:
            return bool(client.command("SELECT 1") == 1)
        finally:
            client.close()

    def _kill_keepalive_query(self) -> None:
        sql = f"KILL QUERY WHERE query LIKE '%{self._marker}%' AND query_id != queryID()"
        request = urllib.request.Request(self.url, data=sql.encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.stop_timeout) as response:
                response.read()
        except OSError:
            pass  # not answering: the signals below take over

    def _terminate(self, *, graceful: bool = True) -> None:
        process = self._process
        assert process is not None
        if graceful:
            self._kill_keepalive_query()
            if self._exited_within(self.stop_timeout):
                return
        process.terminate()
        if self._exited_within(self.stop_timeout):
            return
        process.kill()
        process.wait()

    def _exited_within(self, seconds: float) -> bool:
        assert self._process is not None
        try:
            self._process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _close_process_handles(self) -> None:
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.close()
        self._process = None

    def _log_tail(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            text = log.read().decode("utf-8", errors="replace")
        return text[-_LOG_TAIL_CHARS:]


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"status {returncode}"
