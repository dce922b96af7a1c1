"""What every collector process does in the background besides writing its spool, each
on its own interval: write the consent decisions it kept during a store outage, and load
the coming days' measurement salts. Unlike the scheduled jobs (``aggregator.jobs``),
which one process runs for the deployment, these are each process's own. A chore that
fails is logged and tried again at its next turn."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Chore", "Chores"]

log = logging.getLogger("clearsignal.chores")


@dataclass(frozen=True)
class Chore:
    name: str
    seconds: float
    run: Callable[[], object]


class Chores:
    def __init__(self, chores: Sequence[Chore], tick: float = 1.0) -> None:
        self.chores = list(chores)
        self._tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chores", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        due = {chore.name: time.monotonic() for chore in self.chores}
        while not self._stop.wait(self._tick):
            for chore in self.chores:
                if time.monotonic() < due[chore.name]:
                    continue
                try:
                    chore.run()
                except Exception as exc:  # the store may be down: try again next turn
                    log.warning("%s: %s", chore.name, exc)
                due[chore.name] = time.monotonic() + chore.seconds
