"""The embedded engine in a process of its own, answering ClickHouse's HTTP interface.

    python -m aggregator.store.engine_host      (started by ``aggregator.store.engine_process``)

The parent writes one line of JSON to this process's standard input: the data directory,
the engine's settings (``aggregator.store.engine_options``) and a key. The engine opens
the directory, a listener takes loopback connections on a port of the system's choosing,
and the port goes back as one line on standard output: ``listening <port>``. Then each
request runs on the engine as ClickHouse's own HTTP interface runs it, for what the
ClickHouse client of the parent sends (clickhouse-connect): the statement in the body or
in ``query``; ``param_<name>`` parameters; ``database``; any other parameter a setting
of that statement; an ``INSERT … FORMAT <name>`` followed by its data; the answer in the
statement's format, errors as ClickHouse words them, with their code in
``X-ClickHouse-Exception-Code``. A request without the key gets 403.

The process ends on SIGTERM, and when its standard input closes: a parent that dies,
even by SIGKILL, takes its engine with it, and the data directory's lock with that.
"""

from __future__ import annotations

import hmac
import json
import re
import signal
import sys
import tempfile
import threading
import uuid
from base64 import b64decode
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["PROTOCOL_PARAMETERS", "main"]

PROTOCOL_PARAMETERS = frozenset(
    {
        "query", "database", "query_id", "session_id", "session_timeout", "session_check",
        "client_protocol_version", "wait_end_of_query", "send_progress_in_http_headers",
        "http_headers_progress_interval_ms", "enable_http_compression", "default_format",
        "user", "password", "quota_key", "compress", "decompress", "buffer_size",
    }
)  # fmt: skip
"""What a request's query string says about the request itself; the rest are settings."""
_FORMAT = re.compile(rb"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_INSERT_WITH_DATA = re.compile(
    rb"^(?P<head>\s*INSERT\s+INTO\s[^\n]*?)\s*\bFORMAT\s+(?P<format>\w+)[ \t]*\r?\n?", re.I
)
_CODE = re.compile(r"Code: (\d+)\.")
_EMPTY_SUMMARY = dict.fromkeys(
    ("read_rows", "read_bytes", "written_rows", "written_bytes", "total_rows_to_read"), "0"
)


class Engine:
    """The engine: one connection per request thread, over one data directory."""

    def __init__(self, path: str, options: dict[str, str]) -> None:
        from chdb.state import sqlitelike

        self._connect = sqlitelike.connect
        self._address = f"{path}?{urlencode(options)}" if options else path
        self._local = threading.local()
        self.timezone = self.run("SELECT timezone()", "TabSeparated").decode().strip()

    def connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect(self._address)
        return connection

    def run(
        self,
        sql: str,
        fmt: str,
        parameters: dict[str, str] | None = None,
        settings: dict[str, str] | None = None,
        database: str | None = None,
    ) -> bytes:
        """``sql``'s result in ``fmt``, with ``settings`` for this statement only."""
        connection = self.connection()
        if database and database != getattr(self._local, "database", None):
            connection.query(f"USE {_identifier(database)}", "TabSeparated")
            self._local.database = database
        for name, value in (settings or {}).items():
            connection.query(f"SET {_identifier(name)} = {_literal(value)}", "TabSeparated")
        try:
            result = connection.query(sql, fmt, params=parameters or {})
            return bytes(result.bytes()) if result is not None else b""
        finally:
            for name in settings or {}:
                connection.query(f"SET {_identifier(name)} = DEFAULT", "TabSeparated")


def _form_fields(kind: str, body: bytes) -> dict[str, str]:
    """The fields of a ``multipart/form-data`` body: the statement and its parameters."""
    form = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    fields = {}
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a name: {name!r}")
    return name


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses its connections
    engine: Engine
    key: str

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the statements are the parent's to log."""

    def do_GET(self) -> None:
        if urlsplit(self.path).path in ("/ping", "/"):
            self._answer(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
        else:
            self._answer(404, b"Only /ping and POST are answered here\n", {})

    def do_POST(self) -> None:
        if not self._authorised():  # before a byte of the body is read
            self.close_connection = True
            self._answer(403, b"Code: 516. DB::Exception: wrong key (AUTHENTICATION_FAILED)\n",
                         {"X-ClickHouse-Exception-Code": "516", "Connection": "close"})  # fmt: skip
            return
        body = self._body()
        if self.headers.get("Content-Encoding", "identity") != "identity":
            self._answer(400, b"Code: 1001. Compressed requests are not read here\n", {})
            return
        request = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("multipart/form-data"):  # the client's way with long parameters
            request |= _form_fields(kind, body)
            body = b""
        parameters = {k[6:]: v for k, v in request.items() if k.startswith("param_")}
        settings = {
            k: v for k, v in request.items()
            if k not in PROTOCOL_PARAMETERS and not k.startswith("param_")
        }  # fmt: skip
        query = request.get("query", "").encode()
        statement = query + b"\n" + body if query and body else query or body
        query_id = request.get("query_id") or str(uuid.uuid4())
        try:
            fmt, answer = self._execute(statement, parameters, settings, request.get("database"))
        except Exception as exc:  # the engine's error, to the client as ClickHouse words it
            message = str(exc)
            code = _CODE.search(message)
            self._answer(
                500,
                (message.rstrip() + "\n").encode(),
                {"X-ClickHouse-Exception-Code": code.group(1) if code else "1001"},
            )
            return
        self._answer(200, answer, {
            "Content-Type": "application/octet-stream",
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Timezone": self.engine.timezone,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Summary": json.dumps(_EMPTY_SUMMARY),
        })  # fmt: skip

    def _execute(
        self,
        statement: bytes,
        parameters: dict[str, str],
        settings: dict[str, str],
        database: str | None,
    ) -> tuple[str, bytes]:
        """Run ``statement``: an insert with its data from a file the engine reads, else
        in its own ``FORMAT`` (TabSeparated by default, as ClickHouse answers)."""
        run = self.engine.run
        insert = _INSERT_WITH_DATA.match(statement)
        if insert and insert.end() < len(statement):
            with tempfile.NamedTemporaryFile(suffix=".data") as data:
                data.write(statement[insert.end() :])
                data.flush()
                sql = (
                    f"{insert['head'].decode()} FROM INFILE {_literal(data.name)} "
                    f"FORMAT {insert['format'].decode()}"
                )
                return "TabSeparated", run(sql, "TabSeparated", parameters, settings, database)
        text = statement.decode()
        found = _FORMAT.search(statement)
        fmt = found.group(1).decode() if found else "TabSeparated"
        return fmt, run(text, fmt, parameters, settings, database)

    def _authorised(self) -> bool:
        given = self.headers.get("X-ClickHouse-Key", "")
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            given = b64decode(basic[6:]).decode(errors="replace").partition(":")[2]
        return hmac.compare_digest(given.encode(), self.key.encode())

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> int:
    from clearsignal.process_memory import decline_data_frame_libraries

    decline_data_frame_libraries()  # before the engine's module is imported
    config = json.loads(sys.stdin.readline())
    Handler.engine = Engine(config["path"], config.get("options") or {})
    Handler.key = config["key"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def watch_parent() -> None:
        sys.stdin.read()  # returns when the parent closes its end, or dies
        stop()

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=watch_parent, daemon=True).start()
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.5)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
