"""The ClickHouse store: a thin, typed wrapper around a clickhouse-connect client.

`open_store(dsn, ...)` turns a DSN into a client: ``chdb:///path`` runs the embedded
engine in this process; ``http(s)://user:pass@host:port/db`` talks to a server. Every
call goes through clickhouse-connect, and every driver error comes out as a StoreError
that keeps ClickHouse's error code.

On a cluster every table ``t`` is a ``Distributed`` table over ``t_local`` tables on the
nodes (``aggregator.store.cluster_ddl``). Reads and inserts go through ``t``; inserts
wait until the shards hold the rows (``distributed_foreground_insert``). What must
reach every node's own rows (``alter``, ``delete_where``) runs ``ON CLUSTER``, or on
each of ``nodes`` in turn where the cluster has no distributed DDL; ``everywhere``
reads every replica of every shard, for checks that nothing is left anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from aggregator.errors import StoreError, StoreUnavailable
from aggregator.store.engine_options import (
    IDLE_SECONDS,
    cgroup_memory_limit,
    engine_options,
    within_cgroup,
)
from aggregator.store.engine_process import EngineClient, bookkeeping, engine_for
from clearsignal.settings import Settings

__all__ = ["Store", "StoreTarget", "open_configured_store", "open_store", "parse_dsn"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CODE = re.compile(r"Code: (\d+)")
_CLUSTER_SETTINGS = {
    # An insert returns once every shard's replicas hold its rows: an acknowledged event
    # or consent decision is stored, and readable at once.
    "distributed_foreground_insert": 1,
    # A subquery over a Distributed table inside IN or JOIN runs once, on the node that
    # was asked, and its result goes to every shard: right whatever table is where.
    "distributed_product_mode": "global",
}


@dataclass(frozen=True)
class StoreTarget:
    """Where a DSN points: the embedded engine's path, or a server's address."""

    embedded_path: str | None
    host: str | None = None
    port: int | None = None
    username: str = "default"
    password: str = ""
    secure: bool = False
    database: str | None = None
    engine: tuple[tuple[str, str], ...] = ()
    """The embedded engine's settings from the DSN's query string (``engine_options``)."""
    idle_seconds: float | None = None
    """``engine_idle_seconds`` from the DSN: the embedded engine in a process of its own,
    stopped after that many seconds unused (``engine_process``); None: in this process."""

    @property
    def description(self) -> str:
        """A printable form with no password in it."""
        if self.embedded_path is not None:
            return f"embedded ClickHouse at {self.embedded_path}"
        scheme = "https" if self.secure else "http"
        return f"ClickHouse at {scheme}://{self.username}@{self.host}:{self.port}"


def parse_dsn(dsn: str) -> StoreTarget:
    parts = urlsplit(dsn)
    if parts.scheme == "chdb":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise StoreError(f"DSN {dsn!r} names no data directory; use chdb:///absolute/path")
        options = engine_options(parts.query)
        idle = options.pop(IDLE_SECONDS, None)
        return StoreTarget(
            embedded_path=path,
            engine=tuple(options.items()),
            idle_seconds=float(idle) if idle is not None else None,
        )
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise StoreError(f"DSN {dsn!r} names no host; use http(s)://user:pass@host:port/db")
        secure = parts.scheme == "https"
        database = parts.path.strip("/") or None
        return StoreTarget(
            embedded_path=None,
            host=parts.hostname,
            port=parts.port or (8443 if secure else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            secure=secure,
            database=database,
        )
    raise StoreError(f"DSN {dsn!r} has an unknown scheme; use chdb://, http:// or https://")


def _error_code(exc: Exception) -> int | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    match = _CODE.search(str(exc))
    return int(match.group(1)) if match else None


@contextmanager
def _wrapped(what: str, secret: str = "") -> Iterator[None]:
    """Driver errors as StoreErrors keeping ClickHouse's error code; the DSN's password,
    should a driver or server message repeat it, comes out as ``***``."""

    def told(detail: object) -> str:
        text = f"{what}: {detail}"
        return text.replace(secret, "***") if secret else text

    try:
        yield
    except OperationalError as exc:
        raise StoreUnavailable(told(f"the store did not answer: {exc}")) from exc
    except ClickHouseError as exc:
        raise StoreError(told(exc), code=_error_code(exc)) from exc


def _connect(target: StoreTarget, database: str | None, cluster: str | None = None) -> Client:
    with _wrapped(f"connecting to {target.description}", target.password):
        if target.embedded_path is not None:
            if cluster:
                raise StoreError("a cluster is reached over http(s)://, not the embedded engine")
            options = within_cgroup(dict(target.engine), cgroup_memory_limit())
            if target.idle_seconds is not None:
                engine = engine_for(target.embedded_path, options, target.idle_seconds)
                return EngineClient(engine, database)  # type: ignore[return-value]
            return clickhouse_connect.get_client(
                dsn=f"chdb://{target.embedded_path}",
                database=database,
                tz_mode="aware",
                chdb_options=options or None,
            )
        return clickhouse_connect.get_client(
            host=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            secure=target.secure,
            database=database,
            tz_mode="aware",
            # Without this every client shares one server session, and concurrent
            # queries from the spool writer and the web handlers fail with SESSION_IS_LOCKED.
            autogenerate_session_id=False,
            connect_timeout=5,
            send_receive_timeout=120,
            settings=_CLUSTER_SETTINGS if cluster else None,
        )


class Store:
    """One database in one ClickHouse deployment. Safe to share between threads."""

    def __init__(
        self,
        client: Client,
        target: StoreTarget,
        database: str,
        cluster: str | None,
        nodes: Sequence[Store] = (),
    ) -> None:
        self._client = client
        self.target = target
        self.database = database
        self.cluster = cluster
        self.nodes = tuple(nodes)
        """Each node's own database, where the cluster has no distributed DDL; else empty."""
        self._settings: dict[str, str | None] = {}
        self._lanes: list[Client] = []
        self._owns_nodes = True

    def lane(self) -> Store:
        """This store over a connection of its own, closed with this one. The embedded
        engine runs one statement at a time per connection, so a lane's statements run
        beside this store's, not behind them: the runtime gives the jobs one, and a job's
        long statement no longer holds up the dashboard, ingest and consent lookups, while
        the jobs still run their statements one at a time among themselves."""
        client = _connect(self.target, self.database, self.cluster)
        self._lanes.append(client)
        lane = Store(client, self.target, self.database, self.cluster, self.nodes)
        lane._owns_nodes = False  # the nodes' stores are this store's to close
        return lane

    def setting(self, name: str) -> str | None:
        """The value of the engine's setting ``name`` for this store's queries, or None
        where the engine has no such setting (a feature of newer versions); asked once
        per store."""
        if name not in self._settings:
            found = self.rows(
                "SELECT value FROM system.settings WHERE name = {name:String}", {"name": name}
            )
            self._settings[name] = str(found[0][0]) if found else None
        return self._settings[name]

    def has_setting(self, name: str) -> bool:
        return self.setting(name) is not None

    def everywhere(self, table: str) -> str:
        """A FROM clause with ``table``'s rows on every replica of every shard."""
        if not self.cluster:
            return f"`{table}`"
        return f"clusterAllReplicas('{self.cluster}', currentDatabase(), '{table}_local')"

    def alter(self, table: str, action: str, parameters: dict[str, Any] | None = None) -> None:
        """``ALTER TABLE`` the rows of ``table`` wherever they are stored."""
        self._on_every_node(table, lambda t, on: f"ALTER TABLE `{t}`{on} {action}", parameters)

    def delete_where(
        self, table: str, where: str, parameters: dict[str, Any] | None = None
    ) -> bool:
        """A lightweight ``DELETE`` of the rows of ``table`` wherever they are stored, run
        only when a replica holds such a row: a ``DELETE`` is a mutation, some hundreds of
        milliseconds even when nothing matches (a job's first run over a day, a visitor
        with nothing derived yet). Whether it ran."""
        held = f"SELECT count() > 0 FROM {self.everywhere(table)} WHERE {where}"
        if not self.scalar(held, parameters):
            return False
        self._on_every_node(table, lambda t, on: f"DELETE FROM `{t}`{on} WHERE {where}", parameters)
        return True

    def on_each_shard(
        self, statement: Callable[[str], str], parameters: dict[str, Any] | None = None
    ) -> None:
        """Run ``statement(suffix)``: an ``INSERT … SELECT`` that derives rows of visitor-
        sharded tables from such tables, one visitor at a time. On a cluster with ``nodes``,
        each node runs it over its own ``<table>_local`` tables (suffix ``_local``): no
        shard's events cross the network, and every replica derives its own copy. Else
        once, through the tables as named (suffix ``""``)."""
        for target, suffix in self.shard_targets():
            target.command(statement(suffix), parameters)

    def shard_targets(self) -> list[tuple[Store, str]]:
        """Where ``on_each_shard`` runs its statement, and the suffix of the tables there:
        each of ``nodes`` over its ``_local`` tables, else this store over its own."""
        if not self.nodes:
            return [(self, "")]
        return [(node, "_local") for node in self.nodes]

    def _on_every_node(
        self,
        table: str,
        statement: Callable[[str, str], str],
        parameters: dict[str, Any] | None,
    ) -> None:
        """Run ``statement(stored table, ON CLUSTER clause)`` where ``table``'s rows are."""
        if not self.cluster:
            self.command(statement(table, ""), parameters)
        elif self.nodes:
            for node in self.nodes:
                node.command(statement(f"{table}_local", ""), parameters)
        else:
            self.command(statement(f"{table}_local", f" ON CLUSTER `{self.cluster}`"), parameters)

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with _wrapped(_first_line(sql), self.target.password):
            return self._client.command(sql, parameters=parameters)

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with _wrapped(_first_line(sql), self.target.password):
            return [
                tuple(row) for row in self._client.query(sql, parameters=parameters).result_rows
            ]

    def dicts(self, sql: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with _wrapped(_first_line(sql), self.target.password):
            return list(self._client.query(sql, parameters=parameters).named_results())

    def scalar(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        rows = self.rows(sql, parameters)
        return rows[0][0] if rows else None

    def arrow(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        """The result as a pyarrow Table."""
        with _wrapped(_first_line(sql), self.target.password):
            return self._client.query_arrow(sql, parameters=parameters)

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None:
        with _wrapped(f"inserting into {table}", self.target.password):
            self._client.insert(
                table,
                [list(row) for row in rows],
                column_names=list(column_names),
                settings=settings,
            )

    def insert_arrow(
        self, table: str, arrow_table: Any, settings: dict[str, Any] | None = None
    ) -> None:
        with _wrapped(f"inserting into {table}", self.target.password):
            self._client.insert_arrow(table, arrow_table, settings=settings)

    def insert_formatted(
        self,
        table: str,
        column_names: Sequence[str],
        data: bytes,
        fmt: str,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Insert rows already encoded in a ClickHouse input format (e.g. JSONCompactEachRow):
        ClickHouse parses them, so no Python work per row."""
        with _wrapped(f"inserting into {table}", self.target.password):
            self._client.raw_insert(
                table, list(column_names), insert_block=data, settings=settings, fmt=fmt
            )

    def release_memory(self) -> None:
        """The embedded engine's allocator returns the memory it keeps for reuse (after a
        job over many rows it is as large as at its busiest); a server's is its own."""
        if self.target.embedded_path is not None:
            self.command("SYSTEM JEMALLOC PURGE")

    def writes(self) -> int | None:
        """How many statements that may have written the store ran since this process
        started it, where no other process can write it meanwhile (the embedded engine in
        a process of its own: ``engine_process``), not counting ``bookkeeping``; else None:
        a job with nothing written since its last run need not look (``JobRunner``)."""
        if isinstance(self._client, EngineClient):
            return self._client.engine.writes
        return None

    def bookkeeping(self) -> AbstractContextManager[None]:
        """A block whose writes ``writes`` does not count: a job's run recorded, the
        memory given back."""
        return bookkeeping() if isinstance(self._client, EngineClient) else nullcontext()

    def ping(self) -> bool:
        if isinstance(self._client, EngineClient) and self._client.engine.resting:
            return True  # stopped when unused, it starts with the next statement
        try:
            return bool(self.scalar("SELECT 1") == 1)
        except StoreError:
            return False

    def close(self) -> None:
        for node in self.nodes if self._owns_nodes else ():
            node.close()
        for client in self._lanes:
            client.close()
        self._client.close()


def _first_line(sql: str) -> str:
    line = sql.strip().splitlines()[0] if sql.strip() else ""
    return line[:120]


def open_store(
    dsn: str,
    database: str = "clearsignal",
    cluster: str | None = None,
    create: bool = True,
    nodes: Sequence[str] = (),
) -> Store:
    """Connect to the store, creating the database if asked to.

    A database named in an http(s) DSN's path wins over ``database``. ``nodes``: the
    DSN of every node of a ``cluster`` that has no distributed DDL.
    """
    target = parse_dsn(dsn)
    name = target.database or database
    if not _IDENTIFIER.match(name):
        raise StoreError(f"database name {name!r} is not a plain identifier")
    node_stores = [open_store(node, name, create=create) for node in nodes]
    if create and not nodes:
        bootstrap = _connect(target, None)
        try:
            on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
            with _wrapped(f"creating database {name}", target.password):
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{name}`{on_cluster}")
        finally:
            bootstrap.close()
    return Store(_connect(target, name, cluster), target, name, cluster, node_stores)


def open_configured_store(settings: Settings, create: bool = True) -> Store:
    """The store ``settings`` name: its DSN, database and cluster."""
    store = settings.store
    return open_store(settings.dsn, store.database, store.cluster, create, store.nodes)
