"""Settings of the embedded engine, from the query string of a ``chdb://`` DSN, for a
server of any size: ``chdb:///var/lib/clearsignal/ch?max_server_memory_usage=…``.

Only the names below are taken; any other is refused with the list, because the engine
itself ignores a misspelled one without a word. Three kinds:

* engine-wide (memory limit, caches, thread pools): they count for the first connection
  a process opens, so every connection of the process passes the same ones (every
  ``open_store`` of one DSN does);
* per query (memory per query, spilling GROUP BY and ORDER BY to disk, threads);
* ``engine_idle_seconds``: the engine in a process of its own, stopped after that many
  seconds unused (``aggregator.store.engine_process``).

The engine sizes its memory limit from the host's RAM and does not see a container's or
cgroup's limit. Without ``max_server_memory_usage`` in the DSN, a process in a memory
cgroup (v1 or v2) gets ``CGROUP_SHARE`` of that limit, leaving the rest to Python.
docs/configuration.md ("A small server") gives a profile for a 1 GiB machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl

from aggregator.errors import StoreError

__all__ = [
    "CGROUP_SHARE",
    "ENGINE_SETTINGS",
    "IDLE_SECONDS",
    "cgroup_memory_limit",
    "engine_options",
    "within_cgroup",
]

IDLE_SECONDS = "engine_idle_seconds"
ENGINE_SETTINGS = frozenset(
    {
        # engine-wide
        "max_server_memory_usage",
        "max_server_memory_usage_to_ram_ratio",
        "mark_cache_size",
        "index_mark_cache_size",
        "uncompressed_cache_size",
        "max_thread_pool_size",
        "background_pool_size",
        "background_merges_mutations_concurrency_ratio",
        # per query
        "max_memory_usage",
        "max_bytes_before_external_group_by",
        "max_bytes_before_external_sort",
        "max_threads",
        # where the engine runs (aggregator.store.engine_process)
        IDLE_SECONDS,
    }
)
CGROUP_SHARE = 0.6
_VALUE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_UNLIMITED = 1 << 60  # cgroup v1 writes a number about this large for "no limit"
_TOTAL_LIMITS = frozenset({"max_server_memory_usage", "max_server_memory_usage_to_ram_ratio"})


def engine_options(query: str) -> dict[str, str]:
    """The engine settings of a DSN's query string; ``StoreError`` for an unknown name or
    a value that is not a number."""
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in ENGINE_SETTINGS:
            known = ", ".join(sorted(ENGINE_SETTINGS))
            raise StoreError(f"{name!r} is not an embedded-engine setting we pass on: {known}")
        if not _VALUE.match(value):
            raise StoreError(f"the engine setting {name} takes a number, not {value!r}")
        options[name] = value
    return options


def within_cgroup(options: dict[str, str], cgroup_limit: int | None) -> dict[str, str]:
    """``options`` with a memory limit of ``CGROUP_SHARE`` of the process's cgroup limit,
    unless they set one."""
    if cgroup_limit is None or _TOTAL_LIMITS & options.keys():
        return options
    return {**options, "max_server_memory_usage": str(int(cgroup_limit * CGROUP_SHARE))}


def cgroup_memory_limit(
    proc: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """The memory limit of this process's cgroup in bytes (v2 ``memory.max``, or v1
    ``memory.limit_in_bytes``), or None when it has none or it cannot be read."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2: one hierarchy
            found = _read_limit(root / path.lstrip("/") / "memory.max")
        elif "memory" in controllers.split(","):
            found = _read_limit(root / "memory" / path.lstrip("/") / "memory.limit_in_bytes")
        else:
            continue
        if found is not None:
            return found
    return None


def _read_limit(file: Path) -> int | None:
    try:
        text = file.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None  # "max": no limit
    limit = int(text)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return limit if limit < min(total, _UNLIMITED) else None
