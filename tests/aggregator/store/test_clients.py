"""The clients a store lends: side by side on the embedded engine, never more than the
most, one shared for a server."""

from __future__ import annotations

import threading

from aggregator.store.client import _connect, parse_dsn
from aggregator.store.clients import Clients

SLOW = "SELECT sum(sleepEachRow(0.3)) FROM numbers(2) SETTINGS max_block_size = 1"


def test_callers_at_once_get_clients_of_their_own_up_to_the_most(dsn: str) -> None:
    target = parse_dsn(dsn)
    embedded = target.embedded_path is not None
    clients = Clients(lambda: _connect(target, None), shared=not embedded, most=3)
    answers: list[int] = []

    def ask() -> None:
        with clients.lent() as client:
            answers.append(int(client.query(SLOW).result_rows[0][0]))

    callers = [threading.Thread(target=ask) for _ in range(6)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert answers == [0] * 6  # every caller was answered
    assert len(clients) == (3 if embedded else 1)
    clients.close()
    assert len(clients) == 0
