"""What the app's lifespan hands every request, read back typed.

The lifespan (``collector.app``) opens the runtime and yields one object per room under
its key; Starlette copies that mapping into every request's scope. A room reads its own
with ``lifespan_state(request, KEY, Type)``, and the visitor endpoints read what they
share with ``collector_state``: never an untyped ``request.app.state`` attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import HTTPConnection

from aggregator.store.client import Store
from clearsignal.settings import Settings
from consent.ledger import ConsentLedger
from consent.log_reader import LogReader

__all__ = ["COLLECTOR_STATE", "CollectorState", "collector_state", "lifespan_state"]

T = TypeVar("T")
COLLECTOR_STATE = "collector"


def lifespan_state(connection: HTTPConnection | Mapping[str, Any], key: str, kind: type[T]) -> T:
    """The object the lifespan yielded under ``key``; a request or an ASGI scope."""
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    found = scope.get("state", {}).get(key)
    if not isinstance(found, kind):
        raise RuntimeError(f"the app's lifespan has not opened {key!r} (is it running?)")
    return found


@dataclass(frozen=True)
class CollectorState:
    """What the visitor endpoints share: the settings, the store and the consent log."""

    settings: Settings
    store: Store
    ledger: ConsentLedger
    log_reader: LogReader
    nudge: Callable[[str], None]
    """Run a job soon (the sequencer after a decision); does nothing without a scheduler."""
    count_refused_link: Callable[[str, str], None] = lambda site, reason: None
    """Count a refused customer link by site and reason, on /metrics."""


def collector_state(connection: HTTPConnection) -> CollectorState:
    return lifespan_state(connection, COLLECTOR_STATE, CollectorState)
