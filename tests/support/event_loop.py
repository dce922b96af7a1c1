"""Running a coroutine from a test, whatever else runs in the test process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_coroutine"]

_Result = TypeVar("_Result")


def run_coroutine(coroutine: Coroutine[Any, Any, _Result]) -> _Result:
    """``asyncio.run`` on a thread of its own: the test's thread may hold a running loop
    already (Playwright's sync API leaves one), and ``asyncio.run`` refuses to nest."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
