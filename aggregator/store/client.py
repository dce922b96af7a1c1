"""The ClickHouse store: a thin, typed wrapper around a clickhouse-connect client.

`open_store(dsn, ...)` turns a DSN into a client: ``chdb:///path`` runs the embedded
engine in this process; ``http(s)://user:pass@host:port/db`` talks to a server. Every
call goes through clickhouse-connect, and every driver error comes out as a StoreError
that keeps ClickHouse's error code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from aggregator.errors import StoreError, StoreUnavailable

__all__ = ["Store", "StoreTarget", "open_store", "parse_dsn"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CODE = re.compile(r"Code: (\d+)")


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
        return StoreTarget(embedded_path=path)
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


def _connect(target: StoreTarget, database: str | None) -> Client:
    with _wrapped(f"connecting to {target.description}", target.password):
        if target.embedded_path is not None:
            return clickhouse_connect.get_client(
                dsn=f"chdb://{target.embedded_path}", database=database, tz_mode="aware"
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
        )


class Store:
    """One database in one ClickHouse deployment. Safe to share between threads."""

    def __init__(
        self, client: Client, target: StoreTarget, database: str, cluster: str | None
    ) -> None:
        self._client = client
        self.target = target
        self.database = database
        self.cluster = cluster

    @property
    def is_embedded(self) -> bool:
        return self.target.embedded_path is not None

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

    def ping(self) -> bool:
        try:
            return bool(self.scalar("SELECT 1") == 1)
        except StoreError:
            return False

    def close(self) -> None:
        self._client.close()


def _first_line(sql: str) -> str:
    line = sql.strip().splitlines()[0] if sql.strip() else ""
    return line[:120]


def open_store(
    dsn: str, database: str = "clearsignal", cluster: str | None = None, create: bool = True
) -> Store:
    """Connect to the store, creating the database if asked to.

    A database named in an http(s) DSN's path wins over ``database``.
    """
    target = parse_dsn(dsn)
    name = target.database or database
    if not _IDENTIFIER.match(name):
        raise StoreError(f"database name {name!r} is not a plain identifier")
    if create:
        bootstrap = _connect(target, None)
        try:
            on_cluster = f" ON CLUSTER `{cluster}`" if cluster else ""
            with _wrapped(f"creating database {name}", target.password):
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{name}`{on_cluster}")
        finally:
            bootstrap.close()
    return Store(_connect(target, name), target, name, cluster)
