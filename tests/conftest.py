"""Fixtures shared by the whole suite.

Store tests run twice: on the embedded engine (``chdb``) and on a real ClickHouse
HTTP endpoint on 127.0.0.1 served by the full engine in a subprocess (``http``).
Each test gets its own database, so tests never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from aggregator.store.client import Store, open_store
from aggregator.store.migrations import migrate
from clearsignal.settings import ServerSettings, Settings, StoreSettings
from tests.support.clickhouse_http import ClickHouseHttpServer, ClickHouseHttpUnavailable

BACKENDS = ["chdb", "http"]
OPERATOR_TOKEN = "operator-token-of-the-tests-0123456789"
OPERATOR = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
"""The headers that may read /metrics and /readyz's details of an app made from ``settings``."""


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    # One data directory for the whole run: the embedded engine holds one path per process.
    return f"chdb://{tmp_path_factory.mktemp('embedded') / 'clickhouse'}"


class Startable(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=Startable)


def running(server: S) -> Iterator[S]:
    """``server`` (a ClickHouse endpoint or cluster) started, for a fixture to yield and
    then stop; the test is skipped when chDB cannot serve one."""
    try:
        server.start()
    except ClickHouseHttpUnavailable as exc:
        pytest.skip(f"no ClickHouse endpoint: {exc}")
    try:
        yield server
    finally:
        server.stop()


def serve_clickhouse_http(directory: Path) -> Iterator[ClickHouseHttpServer]:
    """A loopback ClickHouse HTTP endpoint over ``directory`` for a fixture to yield."""
    yield from running(ClickHouseHttpServer(directory))


@pytest.fixture(scope="session")
def clickhouse_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseHttpServer]:
    yield from serve_clickhouse_http(tmp_path_factory.mktemp("clickhouse-http"))


@pytest.fixture(params=BACKENDS)
def dsn(request: pytest.FixtureRequest) -> str:
    """A DSN for each backend: the embedded engine, then the loopback HTTP endpoint."""
    if request.param == "chdb":
        value: str = request.getfixturevalue("chdb_dsn")
        return value
    server: ClickHouseHttpServer = request.getfixturevalue("clickhouse_http")
    return server.url


def unique_database() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def database(dsn: str) -> Iterator[str]:
    """A database name of the test's own on its backend, dropped afterwards whoever made it
    (a store fixture, an app, a command): every table a test leaves behind would keep the
    engine's background threads busy for the rest of the run."""
    name = unique_database()
    yield name
    drop_database(dsn, name)


def drop_database(dsn: str, name: str) -> None:
    cleaner = open_store(dsn, "default", create=False)
    try:
        cleaner.command(f"DROP DATABASE IF EXISTS `{name}` SYNC")
    finally:
        cleaner.close()


@pytest.fixture
def store(dsn: str, database: str) -> Iterator[Store]:
    """An empty database of its own on each backend (dropped by ``database``)."""
    opened = open_store(dsn, database)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def migrated_store(store: Store) -> Store:
    migrate(store)
    return store


@pytest.fixture
def settings(tmp_path: Path, dsn: str, database: str) -> Settings:
    """Settings for one test: its own data directory and database, the demo site."""
    return Settings(
        data_dir=tmp_path / "data",
        store=StoreSettings(dsn=dsn, database=database),
        server=ServerSettings(metrics_token=OPERATOR_TOKEN),
    )


_BACKEND_RESULTS: dict[str, dict[str, int]] = {backend: {} for backend in BACKENDS}
_BACKEND = "store_backend"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each store test with its backend: the mark travels with its reports, from a
    worker process too (pytest-xdist) to the one that prints the summary."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("dsn") in BACKENDS:
            item.user_properties.append((_BACKEND, callspec.params["dsn"]))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = dict(report.user_properties).get(_BACKEND)
    if backend is not None and (report.when == "call" or report.outcome != "passed"):
        counts = _BACKEND_RESULTS[str(backend)]
        counts[report.outcome] = counts.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per store backend, so both runs of the store tests show in the output."""
    terminalreporter.section("store backends")
    for backend, counts in _BACKEND_RESULTS.items():
        outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{backend}: {outcomes or 'no tests'}")
