"""Integration tests of ``ClickHouseHttpServer``: a real engine over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.support.clickhouse_http import (
    ClickHouseHttpServer,
    ClickHouseHttpStartupError,
    ClickHouseHttpUnavailable,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def start_or_skip(server: ClickHouseHttpServer) -> None:
    try:
        server.start()
    except ClickHouseHttpUnavailable as error:
        pytest.skip(f"no ClickHouse HTTP test endpoint: {error}")


def connect(server: ClickHouseHttpServer, database: str = "default") -> Client:
    # A pool of its own, so close() drops the connection: an idle keep-alive
    # connection makes the server's stop() wait out its keep-alive timeout.
    return clickhouse_connect.get_client(
        host=server.host, port=server.port, database=database, dedicated_pool=True
    )


def refuses_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseHttpServer]:
    server = ClickHouseHttpServer(tmp_path_factory.mktemp("clickhouse-http"))
    start_or_skip(server)
    yield server
    server.stop()


@pytest.fixture
def client(shared_server: ClickHouseHttpServer) -> Iterator[Client]:
    """A client on a database of this test's own."""
    database = f"test_{uuid.uuid4().hex}"
    with connect(shared_server) as admin:
        admin.command(f"CREATE DATABASE {database}")
    test_client = connect(shared_server, database)
    yield test_client
    test_client.command(f"DROP DATABASE {database}")
    test_client.close()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ClickHouseHttpServer]:
    """A server this test may stop and restart."""
    server = ClickHouseHttpServer(tmp_path / "clickhouse-http")
    start_or_skip(server)
    yield server
    server.stop()


def test_round_trips_typed_columns_with_server_side_parameters(client: Client) -> None:
    client.command(
        """
        CREATE TABLE events (
            site LowCardinality(String),
            ts DateTime64(3, 'UTC'),
            props Map(String, String)
        ) ENGINE = MergeTree ORDER BY (site, ts)
        """
    )
    first = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    second = datetime(2026, 3, 1, 12, 0, 1, 456000, tzinfo=UTC)
    client.insert(
        "events",
        [
            ["shop.example", first, {"path": "/pricing"}],
            ["shop.example", second, {"path": "/checkout", "step": "shipping"}],
            ["blog.example", second, {}],
        ],
        column_names=["site", "ts", "props"],
    )

    result = client.query(
        "SELECT ts, props FROM events"
        " WHERE site = {site:String} AND ts >= {since:DateTime64(3, 'UTC')} ORDER BY ts",
        parameters={"site": "shop.example", "since": first},
    )

    # clickhouse-connect returns UTC columns as naive datetimes by default.
    assert result.result_rows == [
        (first.replace(tzinfo=None), {"path": "/pricing"}),
        (second.replace(tzinfo=None), {"path": "/checkout", "step": "shipping"}),
    ]
    assert client.command("SELECT toTypeName(site) FROM events LIMIT 1") == "LowCardinality(String)"


def test_client_error_carries_the_server_error_code(client: Client) -> None:
    with pytest.raises(DatabaseError) as raised:
        client.query("SELECT * FROM no_such_table")

    assert raised.value.code == 60
    assert "UNKNOWN_TABLE" in str(raised.value)


def test_serves_concurrent_clients(shared_server: ClickHouseHttpServer, client: Client) -> None:
    client.command("CREATE TABLE hits (worker UInt8, n UInt32) ENGINE = MergeTree ORDER BY worker")
    database = client.database
    assert database is not None

    def insert_and_count(worker: int) -> int:
        with connect(shared_server, database) as worker_client:
            for batch in range(5):
                rows = [[worker, batch * 100 + i] for i in range(100)]
                worker_client.insert("hits", rows, column_names=["worker", "n"])
            result = worker_client.query(
                "SELECT count() FROM hits WHERE worker = {worker:UInt8}",
                parameters={"worker": worker},
            )
            return int(result.result_rows[0][0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(insert_and_count, range(8)))

    assert counts == [500] * 8
    assert client.command("SELECT count() FROM hits") == 4000


def test_data_survives_a_restart_on_the_same_port(own_server: ClickHouseHttpServer) -> None:
    url_before = own_server.url
    client = connect(own_server)
    client.command("CREATE TABLE kept (k UInt32) ENGINE = MergeTree ORDER BY k")
    client.insert("kept", [[1], [2], [3]], column_names=["k"])

    own_server.restart()

    assert own_server.url == url_before
    assert own_server.last_startup_seconds is not None
    assert client.command("SELECT sum(k) FROM kept") == 6
    client.close()


def test_port_refuses_connections_after_stop(own_server: ClickHouseHttpServer) -> None:
    assert not refuses_connections(own_server.host, own_server.port)

    own_server.stop()

    assert not own_server.is_running()
    assert refuses_connections(own_server.host, own_server.port)


def test_start_fails_with_the_log_tail_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = ClickHouseHttpServer(tmp_path, port=squatter.getsockname()[1])

        with pytest.raises(ClickHouseHttpStartupError, match="Address already in use"):
            start_or_skip(server)

    assert not server.is_running()


def test_start_raises_unavailable_without_the_private_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_chdb = tmp_path / "fake" / "chdb"
    fake_chdb.mkdir(parents=True)
    (fake_chdb / "__init__.py").write_text("")
    (fake_chdb / "_chdb.py").write_text('"""A chDB whose private query() is gone."""\n')
    monkeypatch.setenv("PYTHONPATH", str(fake_chdb.parent))

    with pytest.raises(ClickHouseHttpUnavailable, match=r"_chdb\.query"):
        ClickHouseHttpServer(tmp_path / "data").start()


def is_gone(pid: int) -> bool:
    """True when ``pid`` has ended; an exited process nobody reaped yet counts as gone.

    Not simply state Z: a process whose main thread exited first shows as Z while
    its other threads still run.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    return fields["State"].startswith("Z") and fields["Threads"].strip() == "1"


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_server_process_ends_when_the_test_process_is_killed(tmp_path: Path) -> None:
    owner_script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from tests.support.clickhouse_http import ClickHouseHttpServer, ClickHouseHttpUnavailable
        server = ClickHouseHttpServer(Path(sys.argv[1]))
        try:
            server.start()
        except ClickHouseHttpUnavailable:
            print("unavailable", server.port, flush=True)
            sys.exit(0)
        print(server.pid, server.port, flush=True)
        time.sleep(300)
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert owner.stdout is not None
    with owner.stdout:
        server_pid, port = owner.stdout.readline().split()
    if server_pid == "unavailable":
        owner.wait()
        pytest.skip("no ClickHouse HTTP test endpoint")

    owner.send_signal(signal.SIGKILL)
    owner.wait()

    deadline = time.monotonic() + 20
    while not is_gone(int(server_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert is_gone(int(server_pid))
    assert refuses_connections("127.0.0.1", int(port))
