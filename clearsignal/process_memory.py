"""A long-running process's private memory: what it gives back, and what it never loads.

Giving memory back to the system after a burst of work (glibc's allocator only):

CPython's objects and the buffers of query results come from glibc's ``malloc``, which
keeps what is freed for the next allocation: after a job over millions of rows the
process stays as large as at its busiest, though idle. ``trim_heap`` asks glibc to
return the free pages (``malloc_trim``); elsewhere (musl, macOS) it does nothing. The
embedded engine has an allocator of its own:
``aggregator.store.client.Store.release_memory``.

Not loading what the server never uses: ``decline_data_frame_libraries`` (below).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache
from typing import Any

__all__ = ["DATA_FRAME_LIBRARIES", "decline_data_frame_libraries", "trim_heap"]


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


# Imported by the store's clients when installed, for APIs a server never calls: chdb's
# connection module imports pyarrow (and with it numpy) for its Arrow results, and
# clickhouse-connect imports pandas at the first DateTime insert, to test a column for
# pandas' index types. chdb-core requires all three, so they are installed; once loaded
# they stay for the life of the process: 41 MB private in an idle server on an empty
# store (docs/configuration.md).
DATA_FRAME_LIBRARIES = ("pandas", "pyarrow", "numpy")


def decline_data_frame_libraries() -> None:
    """Make this process's imports of pandas, pyarrow and numpy fail as if they were not
    installed: both clients check with ``import`` and carry on without them.

    For ``clearsignal serve`` and the scheduler, called before the store's clients are
    imported; a library already loaded stays. ``Store.arrow`` and ``Store.insert_arrow``
    (tests, bench) then raise ``ImportError``: nothing in a server calls them.
    """
    for name in DATA_FRAME_LIBRARIES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
