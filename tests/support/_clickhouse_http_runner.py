"""Child process behind ``ClickHouseHttpServer``: keeps ClickHouse's HTTP listener up.

Run as a script, never imported by product code::

    python _clickhouse_http_runner.py DATABASE_PATH MARKER PARENT_PID [LISTENER ...]

LISTENER is ``HTTP`` (the default) or ``TCP``, ClickHouse's native protocol, which a
cluster's ``Distributed`` tables use between nodes. The working directory must hold
the ``config.xml`` that names the listen host and ports: chDB's private ``_chdb.query`` entry point runs the full clickhouse-local
program, which reads it from there. One call opens the listener and then runs a
query that sleeps row by row; the listener lives as long as that query. The parent
ends it with ``KILL QUERY`` on MARKER (or a signal).

The process also ends itself when its parent dies (its stdin pipe reaches EOF or it
is re-parented), so a test run killed with SIGKILL leaves no server behind.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time

EXIT_ENTRY_POINT_MISSING = 78
"""Exit status meaning chDB's private ``_chdb.query`` entry point is not usable."""

_PARENT_POLL_SECONDS = 0.25
_GRACE_AFTER_PARENT_DEATH_SECONDS = 10.0
# sleepEachRow() over one-row blocks: a KILL QUERY is noticed within one sleep.
_KEEPALIVE_SQL = (
    "{listen}"
    "SELECT sleepEachRow(0.1), '{marker}' FROM numbers(1000000000000) "
    "SETTINGS max_block_size = 1, max_execution_time = 0 FORMAT Null"
)


def _parent_is_gone(parent_pid: int) -> bool:
    if os.getppid() != parent_pid:
        return True
    readable, _, _ = select.select([sys.stdin.buffer], [], [], _PARENT_POLL_SECONDS)
    return bool(readable) and not os.read(sys.stdin.fileno(), 4096)


def _end_when_parent_dies(parent_pid: int) -> None:
    while not _parent_is_gone(parent_pid):
        pass
    print("parent process is gone: shutting down", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(_GRACE_AFTER_PARENT_DEATH_SECONDS)
    os._exit(1)


def main(argv: list[str]) -> int:
    database_path, marker, parent_pid, *listeners = argv
    listen = "".join(f"SYSTEM START LISTEN {name}; " for name in listeners or ["HTTP"])
    threading.Thread(
        target=_end_when_parent_dies, args=(int(parent_pid),), name="parent-watch", daemon=True
    ).start()
    try:
        from chdb import _chdb

        query = _chdb.query  # type: ignore[attr-defined]  # the extension module, no stubs
    except (ImportError, AttributeError) as error:
        print(f"chdb._chdb.query is not available: {error!r}", file=sys.stderr, flush=True)
        return EXIT_ENTRY_POINT_MISSING

    # The format must be TSV: it becomes the listener's default output format, and
    # clickhouse-connect's version handshake fails with CSV.
    try:
        result = query(
            _KEEPALIVE_SQL.format(listen=listen, marker=marker), "TSV", path=database_path
        )
    except TypeError as error:  # the private signature changed
        print(f"chdb._chdb.query rejected its arguments: {error}", file=sys.stderr, flush=True)
        return EXIT_ENTRY_POINT_MISSING
    if result.has_error():
        message = result.error_message()
        print(message, file=sys.stderr, flush=True)
        return 0 if "QUERY_WAS_CANCELLED" in message else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
