"""Giving memory back to the system after a burst of work (glibc's allocator only).

CPython's objects and the buffers of query results come from glibc's ``malloc``, which
keeps what is freed for the next allocation: after a job over millions of rows the
process stays as large as at its busiest, though idle. ``trim_heap`` asks glibc to
return the free pages (``malloc_trim``); elsewhere (musl, macOS) it does nothing. The
embedded engine has an allocator of its own:
``aggregator.store.client.Store.release_memory``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from typing import Any

__all__ = ["trim_heap"]


@cache
def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    library = ctypes.CDLL(name)
    return library if hasattr(library, "malloc_trim") else None


def trim_heap() -> bool:
    """Return the allocator's free memory to the system; whether it could be asked."""
    glibc = _glibc()
    if glibc is None:
        return False
    glibc.malloc_trim(0)
    return True
