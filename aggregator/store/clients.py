"""The clients of one store, each lent to one caller at a time.

A clickhouse-connect client of the embedded engine runs one statement at a time: its
calls share one engine handle under a lock, so a job's minute-long statement held every
dashboard answer, consent lookup and insert of the process behind it. The engine takes
any number of handles, each its own session, and runs their statements side by side: so
an embedded store lends each caller a client of its own, and opens one more only when
every one is in use (as many as calls ever ran at once). A server's client (HTTP) runs
calls side by side already, and is shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from clickhouse_connect.driver.client import Client

__all__ = ["Clients"]


class Clients:
    def __init__(self, open_client: Callable[[], Client], shared: bool) -> None:
        """``open_client`` opens one more; ``shared``: one client serves every caller.
        The first client is opened now, so a store that cannot be reached fails here."""
        self._open = open_client
        self._shared = shared
        self._lock = threading.Lock()
        self._all = [open_client()]
        self._free = list(self._all)

    @contextmanager
    def lent(self) -> Iterator[Client]:
        if self._shared:
            yield self._all[0]
            return
        with self._lock:
            client = self._free.pop() if self._free else None
        if client is None:
            client = self._open()
            with self._lock:
                self._all.append(client)
        try:
            yield client
        finally:
            with self._lock:
                self._free.append(client)

    def __len__(self) -> int:
        """How many clients are open."""
        return len(self._all)

    def close(self) -> None:
        with self._lock:
            clients, self._all, self._free = self._all, [], []
        for client in clients:
            client.close()
