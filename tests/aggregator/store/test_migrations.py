from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.errors import MigrationError, StoreError
from aggregator.store.client import Store, open_store
from aggregator.store.migrations import load_migrations, migrate

DESIGN_TABLES = {"events", "consent_log", "checkpoints", "signals", "job_runs"}


def schema(store: Store) -> list[tuple[str, str]]:
    return store.rows(
        "SELECT name, create_table_query FROM system.tables "
        "WHERE database = currentDatabase() ORDER BY name"
    )


def test_creates_the_design_tables_and_records_each_migration(store: Store) -> None:
    report = migrate(store)
    names = {name for name, _ in schema(store)}
    assert names >= DESIGN_TABLES
    assert list(report.applied) == [m.name for m in load_migrations()]
    recorded = store.rows("SELECT version FROM schema_migrations FINAL ORDER BY version")
    assert [v for (v,) in recorded] == [m.version for m in load_migrations()]


def test_running_migrate_twice_changes_nothing_the_second_time(store: Store) -> None:
    migrate(store)
    before = schema(store)
    records = store.rows("SELECT * FROM schema_migrations FINAL ORDER BY version")
    report = migrate(store)
    assert report.applied == ()
    assert report.already_applied == len(load_migrations())
    assert schema(store) == before
    assert store.rows("SELECT * FROM schema_migrations FINAL ORDER BY version") == records


def test_two_processes_migrating_at_once_leave_one_schema(dsn: str, database: str) -> None:
    stores = [open_store(dsn, database) for _ in range(2)]
    errors: list[BaseException] = []

    def run(store: Store) -> None:
        try:
            migrate(store)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        versions = stores[0].rows("SELECT version FROM schema_migrations FINAL ORDER BY version")
        assert len(versions) == len(load_migrations())
        assert migrate(stores[1]).applied == ()
    finally:
        stores[0].command(f"DROP DATABASE IF EXISTS `{database}`")
        for store in stores:
            store.close()


def copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    for migration in load_migrations():
        source = (
            Path(__file__).parents[3]
            / "aggregator"
            / "store"
            / "migrations"
            / f"{migration.name}.sql"
        )
        (directory / source.name).write_text(source.read_text())
    return directory


def test_refuses_a_migration_changed_after_it_was_applied(store: Store, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    migrate(store, directory)
    first = sorted(directory.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"changed after it was applied.*append-only"):
        migrate(store, directory)


def test_a_new_file_is_applied_on_the_next_run(store: Store, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    migrate(store, directory)
    number = len(load_migrations()) + 1
    (directory / f"{number:04d}_add_events_note.sql").write_text(
        "ALTER TABLE events ADD COLUMN IF NOT EXISTS note String;\n"
    )
    assert migrate(store, directory).applied == (f"{number:04d}_add_events_note",)
    columns = store.rows(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'events'"
    )
    assert ("note",) in columns


def test_refuses_files_not_named_like_migrations(tmp_path: Path) -> None:
    (tmp_path / "create_events.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_verb_noun\.sql"):
        load_migrations(tmp_path)


def test_refuses_gaps_in_the_version_sequence(tmp_path: Path) -> None:
    (tmp_path / "0001_create_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_create_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="without gaps"):
        load_migrations(tmp_path)


def test_consent_records_are_found_by_id_through_skip_indexes(migrated_store: Store) -> None:
    now = datetime.now(UTC)
    migrated_store.insert(
        "consent_records",
        [[str(uuid.uuid4()), "demo", "k", "consent", now, now, "{}", b"\0" * 32]],
        ["receipt_id", "site", "visitor_key", "kind", "recorded_at", "expires_at", "entry",
         "leaf_hash"],
    )  # fmt: skip
    # With data to skip, ClickHouse refuses the query unless the named index serves it.
    with pytest.raises(StoreError, match=r"force_data_skipping_indices|not used"):
        migrated_store.scalar(
            "SELECT count() FROM consent_records WHERE visitor_key = 'k' "
            "SETTINGS force_data_skipping_indices = 'receipt_id_bloom'"
        )
    for index, column in (
        ("receipt_id_bloom", "receipt_id"),
        ("request_receipt_id_bloom", "request_receipt_id"),
    ):
        found = migrated_store.scalar(
            f"SELECT count() FROM consent_records WHERE {column} = {{id:String}} "
            f"SETTINGS force_data_skipping_indices = '{index}'",
            {"id": "0a0b0c0d-0000-4000-8000-000000000000"},
        )
        assert found == 0


def test_stored_at_is_the_ingest_time_of_older_rows_and_the_insert_time_of_new_ones(
    store: Store, tmp_path: Path
) -> None:
    directory = copy_migrations(tmp_path)
    added = directory / "0028_add_stored_at.sql"
    text = added.read_text()
    added.unlink()
    migrate(store, directory)
    columns = ("site", "visitor_key", "event_id", "ts", "ingested_at", "expires_at")
    taken = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    store.insert("events", [("demo", "k1", "e1", taken, taken, datetime(2027, 5, 1))], columns)
    added.write_text(text)
    migrate(store, directory)  # the older row keeps its ingest time
    before = datetime.now(UTC)
    store.insert("events", [("demo", "k2", "e2", taken, taken, datetime(2027, 5, 1))], columns)
    stored = dict(store.rows("SELECT event_id, stored_at FROM events ORDER BY event_id"))
    assert stored["e1"] == taken
    assert before - timedelta(seconds=1) <= stored["e2"] <= datetime.now(UTC)
    # A second process's run of the migration, after the first's: no row changes.
    store.command("ALTER TABLE events MATERIALIZE COLUMN stored_at SETTINGS mutations_sync = 2")
    assert dict(store.rows("SELECT event_id, stored_at FROM events ORDER BY event_id")) == stored
