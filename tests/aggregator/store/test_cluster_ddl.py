from __future__ import annotations

import pytest

from aggregator.errors import MigrationError
from aggregator.store.cluster_ddl import ClusterDDL, split_statements
from aggregator.store.migrations import load_migrations, planned_statements

SHARDED = """
-- events, sharded by visitor
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS events
(
    site String,
    visitor_key String,
    ingested_at DateTime64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (site, visitor_key)
TTL toDateTime(ingested_at) + INTERVAL 1 DAY;

ALTER TABLE events ADD COLUMN IF NOT EXISTS note String;
ALTER TABLE events MODIFY TTL toDateTime(ingested_at) + INTERVAL 2 DAY;
"""


def test_a_sharded_table_becomes_replicated_local_tables_plus_a_distributed_table() -> None:
    ddl = ClusterDDL("analytics")
    create, alter_column, alter_ttl = split_statements(SHARDED)
    local, distributed = ddl.translate(create)
    assert local.startswith("CREATE TABLE IF NOT EXISTS events_local ON CLUSTER `analytics` (")
    assert (
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', "
        "'{replica}', ingested_at)" in local
    )
    assert local.endswith(
        "ORDER BY (site, visitor_key)\nTTL toDateTime(ingested_at) + INTERVAL 1 DAY"
    )
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS events ON CLUSTER `analytics` AS events_local "
        "ENGINE = Distributed(`analytics`, currentDatabase(), events_local, cityHash64(visitor_key))"
    )
    assert ddl.translate(alter_column) == [
        "ALTER TABLE events_local ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS note String",
        "ALTER TABLE events ON CLUSTER `analytics` ADD COLUMN IF NOT EXISTS note String",
    ]
    assert ddl.translate(alter_ttl) == [
        "ALTER TABLE events_local ON CLUSTER `analytics` MODIFY TTL toDateTime(ingested_at) + INTERVAL 2 DAY"
    ]


def test_a_table_without_shard_key_has_its_home_on_the_first_shard() -> None:
    (statement,) = split_statements(
        "CREATE TABLE IF NOT EXISTS consent_log (log_index UInt64) ENGINE = MergeTree ORDER BY log_index;"
    )
    assert ClusterDDL("c1").translate(statement) == [
        "CREATE TABLE IF NOT EXISTS consent_log_local ON CLUSTER `c1` (log_index UInt64) "
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') "
        "ORDER BY log_index",
        "CREATE TABLE IF NOT EXISTS consent_log ON CLUSTER `c1` AS consent_log_local "
        "ENGINE = Distributed(`c1`, currentDatabase(), consent_log_local, 0)",
    ]


def test_without_distributed_ddl_the_statements_run_on_each_node_with_plain_engines() -> None:
    ddl = ClusterDDL("analytics", replicated=False)
    create, alter_column, _ = split_statements(SHARDED)
    local, distributed = ddl.translate(create)
    assert local.startswith("CREATE TABLE IF NOT EXISTS events_local (")
    assert "ENGINE = ReplacingMergeTree(ingested_at)" in local
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS events AS events_local "
        "ENGINE = Distributed(`analytics`, currentDatabase(), events_local, cityHash64(visitor_key))"
    )
    assert ddl.translate(alter_column) == [
        "ALTER TABLE events_local ADD COLUMN IF NOT EXISTS note String",
        "ALTER TABLE events ADD COLUMN IF NOT EXISTS note String",
    ]


def test_an_alter_of_a_table_not_created_is_refused() -> None:
    (statement,) = split_statements("ALTER TABLE nowhere ADD COLUMN x String;")
    with pytest.raises(MigrationError, match="before it was created"):
        ClusterDDL("c1").translate(statement)


def test_statements_it_cannot_translate_are_refused() -> None:
    (statement,) = split_statements("INSERT INTO events VALUES (1);")
    with pytest.raises(MigrationError, match="cannot translate"):
        ClusterDDL("c1").translate(statement)


def test_every_shipped_migration_translates_and_shards_visitor_tables_by_visitor_key() -> None:
    plan = planned_statements(load_migrations(), "analytics")
    statements = [sql for version in sorted(plan) for sql in plan[version]]
    assert all(" ON CLUSTER `analytics` " in sql for sql in statements)
    distributed = {sql.split()[5]: sql for sql in statements if "ENGINE = Distributed(" in sql}
    visitor_tables = {
        "events", "signals", "sessions", "webhook_deliveries", "server_events", "customer_links",
        "customer_references", "cases", "case_actions", "visitor_days", "visitor_numbers",
    }  # fmt: skip
    assert all(distributed[t].endswith("cityHash64(visitor_key))") for t in visitor_tables)
    assert all(sql.endswith(", 0)") for t, sql in distributed.items() if t not in visitor_tables)
    per_node = planned_statements(load_migrations(), "analytics", replicated=False)
    assert not any(
        "ON CLUSTER" in sql or "Replicated" in sql for v in per_node.values() for sql in v
    )
    single_node = planned_statements(load_migrations(), None)
    assert not any("ON CLUSTER" in sql for sqls in single_node.values() for sql in sqls)
