"""Turn single-node migration DDL into cluster DDL.

Migration files are written once, for one node. With a cluster name set, each
``CREATE TABLE t (...) ENGINE = XMergeTree(args) ...`` becomes a table ``t_local`` on
every node plus a ``Distributed`` table ``t`` that every read and insert goes through:

- preceded by a ``-- shard_key: <expr>`` comment, ``t`` routes rows by ``<expr>`` (the
  visitor key, so one visitor's rows live on one shard);
- without one, ``t`` sends every row to the first shard, the table's one home: small,
  totally ordered, single-writer tables such as the consent log (docs/scaling.md);
- ``ALTER TABLE t`` goes to ``t_local``, and column changes to ``t`` too;
- ``CREATE VIEW`` reads the ``Distributed`` tables.

Two forms, by how the cluster runs DDL:

- ``replicated``: statements carry ``ON CLUSTER`` and tables are
  ``ReplicatedXMergeTree``, for clusters with ClickHouse Keeper. Replication paths use
  the ``{shard}``, ``{replica}`` and ``{database}`` macros, which every node's
  configuration must define;
- per node: plain ``XMergeTree`` tables and no ``ON CLUSTER``, the statements to run on
  each node in turn (``[store] nodes``); the ``Distributed`` tables write every replica
  of a shard themselves (``internal_replication`` false in the cluster's definition).

Anything else is refused with a MigrationError, so a cluster never silently gets
single-node DDL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aggregator.errors import MigrationError

__all__ = ["ClusterDDL", "Statement", "split_statements"]

_SHARD_KEY = re.compile(r"^--\s*shard_key:\s*(.+?)\s*$", re.MULTILINE)
_CREATE_TABLE = re.compile(
    r"^CREATE TABLE IF NOT EXISTS (?P<name>\w+)\s*(?P<columns>\(.*\))\s*"
    r"ENGINE\s*=\s*(?P<engine>\w*MergeTree)(?:\((?P<args>[^)]*)\))?(?P<rest>.*)$",
    re.DOTALL,
)
_ALTER_TABLE = re.compile(r"^ALTER TABLE (?P<name>\w+)\s+(?P<rest>.*)$", re.DOTALL)
_CREATE_VIEW = re.compile(
    r"^CREATE VIEW IF NOT EXISTS (?P<name>\w+)\s+(?P<rest>AS\s.*)$", re.DOTALL
)
_REPLICATION = ("'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'")
_COLUMN_CHANGE = re.compile(r"^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """One statement of a migration file, with its shard key directive if it has one."""

    sql: str
    shard_key: str | None = None


def split_statements(text: str) -> list[Statement]:
    """Split a migration file on ``;`` at the end of a line; comments stay with their statement."""
    statements = []
    for chunk in re.split(r";\s*(?:\n|$)", text):
        shard = _SHARD_KEY.search(chunk)
        sql = "\n".join(
            line for line in chunk.splitlines() if not line.strip().startswith("--")
        ).strip()
        if sql:
            statements.append(Statement(sql, shard.group(1) if shard else None))
    return statements


@dataclass
class ClusterDDL:
    """Rewrites statements for one cluster; remembers the tables it has created."""

    cluster: str
    replicated: bool = True
    tables: set[str] = field(default_factory=set)

    def translate(self, statement: Statement) -> list[str]:
        sql = statement.sql
        if match := _CREATE_TABLE.match(sql):
            return self._create_table(match, statement.shard_key)
        if match := _ALTER_TABLE.match(sql):
            return self._alter_table(match)
        if match := _CREATE_VIEW.match(sql):
            return [f"CREATE VIEW IF NOT EXISTS {match['name']}{self._on} {match['rest']}"]
        raise MigrationError(
            "cluster mode supports CREATE TABLE IF NOT EXISTS ... ENGINE = *MergeTree, "
            f"ALTER TABLE and CREATE VIEW IF NOT EXISTS; cannot translate: {sql[:200]}"
        )

    @property
    def _on(self) -> str:
        return f" ON CLUSTER `{self.cluster}`" if self.replicated else ""

    def _create_table(self, match: re.Match[str], shard_key: str | None) -> list[str]:
        name, columns, rest = match["name"], match["columns"], match["rest"].strip()
        args = [a.strip() for a in (match["args"] or "").split(",") if a.strip()]
        engine = f"{match['engine']}({', '.join(args)})"
        if self.replicated:
            engine = f"Replicated{match['engine']}({', '.join([*_REPLICATION, *args])})"
        self.tables.add(name)
        local = f"{name}_local"
        return [
            f"CREATE TABLE IF NOT EXISTS {local}{self._on} {columns} ENGINE = {engine} {rest}",
            f"CREATE TABLE IF NOT EXISTS {name}{self._on} AS {local} ENGINE = "
            f"Distributed(`{self.cluster}`, currentDatabase(), {local}, {shard_key or 0})",
        ]

    def _alter_table(self, match: re.Match[str]) -> list[str]:
        name, rest = match["name"], match["rest"]
        if name not in self.tables:
            raise MigrationError(f"cluster mode: ALTER TABLE {name} before it was created")
        statements = [f"ALTER TABLE {name}_local{self._on} {rest}"]
        if _COLUMN_CHANGE.match(rest):
            statements.append(f"ALTER TABLE {name}{self._on} {rest}")
        return statements
