"""Work that must neither run on the event loop nor crowd the thread pool every other
endpoint shares: on a few threads of its own, with a bound on what may wait.

The ingest endpoint parses and scrubs large bodies in one lane (the event loop keeps
answering small requests meanwhile); /admin hashes passwords in another (scrypt takes
128 MiB a hash: the lane's width bounds that memory, however many sign-ins arrive).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["Lane"]

T = TypeVar("T")


class Lane:
    def __init__(self, name: str, workers: int = 1, queue: int = 32) -> None:
        self.queue = queue
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._waiting = 0

    @property
    def full(self) -> bool:
        """``queue`` calls wait already: the caller should refuse (429), not queue more."""
        return self._waiting >= self.queue

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        self._waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
