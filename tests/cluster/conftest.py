"""Real multi-node ClickHouse clusters (``tests.support.clickhouse_cluster``) and
ClearSignal settings pointing at them.

Two shapes, each started once per run and shared: 2 shards of one node, and 2 shards of
2 replicas. Every test gets a database of its own on every node, dropped afterwards.
Node processes take about 1 s each to start and 265 MiB each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store.client import Store, open_configured_store
from aggregator.store.migrations import migrate
from clearsignal.settings import ServerSettings, Settings, StoreSettings
from tests.conftest import OPERATOR_TOKEN, drop_database, running, unique_database
from tests.support.clickhouse_cluster import ClickHouseCluster
from tests.support.clickhouse_http import ClickHouseHttpServer

SHAPES = {"2-shards": (2, 1), "2x2-replicas": (2, 2)}


def _running(directory: Path, shards: int, replicas: int) -> Iterator[ClickHouseCluster]:
    yield from running(ClickHouseCluster(directory, shards, replicas))


@pytest.fixture(scope="session")
def two_shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseCluster]:
    yield from _running(tmp_path_factory.mktemp("two-shards"), *SHAPES["2-shards"])


@pytest.fixture(scope="session")
def two_by_two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseCluster]:
    yield from _running(tmp_path_factory.mktemp("two-by-two"), *SHAPES["2x2-replicas"])


@pytest.fixture(params=list(SHAPES))
def cluster(request: pytest.FixtureRequest) -> ClickHouseCluster:
    name = "two_shards" if request.param == "2-shards" else "two_by_two"
    value: ClickHouseCluster = request.getfixturevalue(name)
    return value


def cluster_store_settings(cluster: ClickHouseCluster, database: str) -> StoreSettings:
    return StoreSettings(
        dsn=cluster.urls[0], database=database, cluster=cluster.name, nodes=cluster.urls
    )


@pytest.fixture
def cluster_settings(tmp_path: Path, cluster: ClickHouseCluster) -> Iterator[Settings]:
    """Settings of one test on the cluster: connected to the first node, DDL on each."""
    database = unique_database()
    yield Settings(
        data_dir=tmp_path / "data",
        store=cluster_store_settings(cluster, database),
        server=ServerSettings(metrics_token=OPERATOR_TOKEN),
    )
    for url in cluster.urls:
        drop_database(url, database)


@pytest.fixture
def cluster_store(cluster_settings: Settings) -> Iterator[Store]:
    """The migrated store of ``cluster_settings``."""
    store = open_configured_store(cluster_settings)
    migrate(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def single_node(
    clickhouse_http: ClickHouseHttpServer, cluster_settings: Settings
) -> Iterator[Settings]:
    """Settings of a single node sharing the cluster test's keys (site keys, log key)."""
    store = StoreSettings(dsn=clickhouse_http.url, database=unique_database())
    yield cluster_settings.model_copy(update={"store": store})
    drop_database(clickhouse_http.url, store.database)


def held_on_each_node(
    store: Store, table: str, where: str, parameters: dict[str, object]
) -> list[int]:
    """Rows of ``table`` matching ``where`` in each node's own ``<table>_local``."""
    return [
        int(node.scalar(f"SELECT count() FROM `{table}_local` WHERE {where}", parameters))
        for node in store.nodes
    ]
