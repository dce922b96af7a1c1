"""``clearsignal migrate`` on a real cluster: the schema on every node, and a rerun that
changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from aggregator.store.client import open_store
from aggregator.store.migrations import load_migrations
from clearsignal.settings import Settings
from tests.support.cli import clearsignal
from tests.support.clickhouse_cluster import ClickHouseCluster


def settings_file(directory: Path, settings: Settings) -> None:
    store = settings.store
    (directory / "clearsignal.toml").write_text(
        f'data_dir = "{settings.data_dir}"\n'
        f'[store]\ndsn = "{store.dsn}"\ndatabase = "{store.database}"\n'
        f'cluster = "{store.cluster}"\nnodes = {json.dumps(store.nodes)}\n',
        encoding="utf-8",
    )


def tables_of(url: str, database: str) -> dict[str, str]:
    node = open_store(url, database, create=False)
    try:
        rows = node.rows(
            "SELECT name, engine FROM system.tables WHERE database = currentDatabase()"
        )
    finally:
        node.close()
    return {str(name): str(engine) for name, engine in rows}


def test_migrate_creates_the_schema_on_every_node_and_a_rerun_changes_nothing(
    tmp_path: Path, cluster: ClickHouseCluster, cluster_settings: Settings
) -> None:
    settings_file(tmp_path, cluster_settings)
    first = clearsignal("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Applied {len(load_migrations())} migration(s)")

    database = cluster_settings.store.database
    schemas = [tables_of(url, database) for url in cluster.urls]
    assert all(schema == schemas[0] for schema in schemas), "every node holds the same schema"
    schema = schemas[0]
    distributed = {name for name, engine in schema.items() if engine == "Distributed"}
    assert {"events", "consent_log", "consent_records", "signals", "sessions"} <= distributed
    for name in distributed:
        assert schema[f"{name}_local"].endswith("MergeTree"), name
        assert not schema[f"{name}_local"].startswith("Replicated"), name

    second = clearsignal("migrate", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("Schema is up to date")
    assert [tables_of(url, database) for url in cluster.urls] == schemas
