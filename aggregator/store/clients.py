"""The clients of one store, each lent to one caller at a time.

A clickhouse-connect client of the embedded engine runs one statement at a time: its
calls share one engine handle under a lock, so a job's minute-long statement held every
dashboard answer, consent lookup and insert of the process behind it. The engine takes
any number of handles, each its own session, and runs their statements side by side: so
an embedded store lends each caller a client of its own, and opens one more only when
every one is in use, up to ``MOST`` (a handle holds a session and its buffers: 20 at once
took 35 MB more than one); past that, a caller waits for one to come back. A server's
client (HTTP) runs calls side by side already, and is shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from clickhouse_connect.driver.client import Client

__all__ = ["MOST", "Clients"]

MOST = 8


class Clients:
    def __init__(self, open_client: Callable[[], Client], shared: bool, most: int = MOST) -> None:
        """``open_client`` opens one more; ``shared``: one client serves every caller.
        The first client is opened now, so a store that cannot be reached fails here."""
        self._open = open_client
        self._shared = shared
        self._most = most
        self._returned = threading.Condition()
        self._all = [open_client()]
        self._free = list(self._all)
        self._opening = 0
        self._closed = False

    @contextmanager
    def lent(self) -> Iterator[Client]:
        if self._shared:
            yield self._all[0]
            return
        client = self._take()
        try:
            yield client
        finally:
            with self._returned:
                closed = self._closed
                if not closed:
                    self._free.append(client)
                    self._returned.notify()
            if closed:
                client.close()

    def _take(self) -> Client:
        with self._returned:
            while not self._free and len(self._all) + self._opening >= self._most:
                self._returned.wait()
            if self._free:
                return self._free.pop()
            self._opening += 1
        try:
            client = self._open()
        except BaseException:
            with self._returned:
                self._opening -= 1
                self._returned.notify()
            raise
        with self._returned:
            self._opening -= 1
            self._all.append(client)
        return client

    def __len__(self) -> int:
        """How many clients are open."""
        return len(self._all)

    def close(self) -> None:
        with self._returned:
            self._closed = True
            clients, self._all, self._free = self._all, [], []
        for client in clients:
            client.close()
