"""Append-only schema migrations.

Files live in ``aggregator/store/migrations/NNNN_verb_noun.sql``. Each is applied once and
recorded, with its SHA-256, in ``schema_migrations``. Every statement is idempotent
(``IF NOT EXISTS``), and the record table collapses duplicate records, so two
processes migrating at once against one server both succeed and leave one schema.
A file changed after it was applied is refused: add a new file instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from aggregator.errors import MigrationError, StoreError
from aggregator.store.client import Store
from aggregator.store.cluster_ddl import ClusterDDL, Statement, split_statements

__all__ = ["Migration", "MigrationReport", "load_migrations", "migrate", "planned_statements"]

_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z]+(?:_[a-z0-9]+)+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    checksum: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class MigrationReport:
    applied: tuple[str, ...]
    already_applied: int

    def __str__(self) -> str:
        if not self.applied:
            return f"Schema is up to date ({self.already_applied} migrations already applied)."
        return f"Applied {len(self.applied)} migration(s): {', '.join(self.applied)}."


def _migrations_dir() -> Path:
    return Path(str(resources.files("aggregator.store") / "migrations"))


def load_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or _migrations_dir()
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_verb_noun.sql")
        text = path.read_text(encoding="utf-8")
        statements = tuple(split_statements(text))
        if not statements:
            raise MigrationError(f"{path.name}: holds no statement")
        migrations.append(
            Migration(
                version=int(match["version"]),
                name=path.stem,
                checksum=hashlib.sha256(text.encode()).hexdigest(),
                statements=statements,
            )
        )
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(
            f"migration versions must run 1, 2, 3 ... without gaps; found {versions}"
        )
    return migrations


def planned_statements(
    migrations: list[Migration], cluster: str | None, replicated: bool = True
) -> dict[int, list[str]]:
    """The SQL each migration runs, per version: as written, or rewritten for a cluster
    (``replicated``: ON CLUSTER, else the statements to run on each node)."""
    translator = ClusterDDL(cluster, replicated) if cluster else None
    plan = {}
    for migration in migrations:
        sql: list[str] = []
        for statement in migration.statements:
            sql.extend(translator.translate(statement) if translator else [statement.sql])
        plan[migration.version] = sql
    return plan


def _ensure_record_table(store: Store, on_cluster: str) -> None:
    if on_cluster:
        engine = (
            "ReplicatedReplacingMergeTree("
            "'/clickhouse/tables/all/{database}/{table}', '{replica}', applied_at)"
        )
    else:
        engine = "ReplacingMergeTree(applied_at)"
    # ReplacingMergeTree: two processes migrating at once each record the version;
    # reads use FINAL, so the record is one row per version either way.
    store.command(
        f"CREATE TABLE IF NOT EXISTS schema_migrations{on_cluster} "
        "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC')) "
        f"ENGINE = {engine} ORDER BY version"
    )


def applied_checksums(store: Store) -> dict[int, tuple[str, str]]:
    rows = store.rows("SELECT version, name, checksum FROM schema_migrations FINAL")
    return {int(version): (name, checksum) for version, name, checksum in rows}


def migrate(store: Store, directory: Path | None = None) -> MigrationReport:
    """Apply every migration not yet recorded, in order: on the store, or on each node of a
    cluster without distributed DDL (each node records what it has applied)."""
    migrations = load_migrations(directory)
    if not store.nodes:
        plan = planned_statements(migrations, store.cluster)
        on_cluster = f" ON CLUSTER `{store.cluster}`" if store.cluster else ""
        return _apply(store, migrations, plan, on_cluster)
    plan = planned_statements(migrations, store.cluster, replicated=False)
    reports = [_apply(node, migrations, plan, "") for node in store.nodes]
    applied = tuple(dict.fromkeys(name for report in reports for name in report.applied))
    return MigrationReport(applied, min(report.already_applied for report in reports))


def _apply(
    store: Store, migrations: list[Migration], plan: dict[int, list[str]], on_cluster: str
) -> MigrationReport:
    _ensure_record_table(store, on_cluster)
    done = applied_checksums(store)
    for migration in migrations:
        if migration.version in done and done[migration.version][1] != migration.checksum:
            raise MigrationError(
                f"{migration.name}.sql was changed after it was applied "
                f"(recorded as {done[migration.version][0]}). Migrations are append-only: "
                "restore the file and put the change in a new migration."
            )
    applied = []
    for migration in migrations:
        if migration.version in done:
            continue
        for sql in plan[migration.version]:
            try:
                store.command(sql)
            except StoreError as exc:
                raise MigrationError(f"{migration.name}.sql failed: {exc}") from exc
        store.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum, datetime.now(UTC)]],
            ["version", "name", "checksum", "applied_at"],
        )
        applied.append(migration.name)
    return MigrationReport(applied=tuple(applied), already_applied=len(migrations) - len(applied))
