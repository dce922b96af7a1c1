"""The embedded engine's settings from a chdb:// DSN: only names we know, only numbers,
read back from a real engine; and the memory limit a process in a memory cgroup gets."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from aggregator.errors import StoreError
from aggregator.store.client import parse_dsn
from aggregator.store.engine_options import (
    CGROUP_SHARE,
    cgroup_memory_limit,
    engine_options,
    within_cgroup,
)

SMALL = (
    "max_server_memory_usage=314572800&mark_cache_size=33554432&max_threads=1"
    "&max_memory_usage=268435456&max_bytes_before_external_group_by=67108864"
)
READ_BACK = """
import sys
from aggregator.store.client import open_store
store = open_store(sys.argv[1], "t")
for name, value in store.rows(
    "SELECT name, value FROM system.server_settings"
    " WHERE name IN ('max_server_memory_usage', 'mark_cache_size')"
):
    print(name, value)
for name in ("max_threads", "max_memory_usage", "max_bytes_before_external_group_by"):
    print(name, store.scalar(f"SELECT getSetting('{name}')"))
"""
CGROUP_V1 = Path("/sys/fs/cgroup/memory")


def read_back(dsn: str, prefix: list[str] | None = None) -> dict[str, str]:
    """The settings a fresh process's engine runs with (engine-wide ones count only for
    the first connection of a process, so never this test process's)."""
    command = [*(prefix or []), sys.executable, "-c", READ_BACK, dsn]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


def test_the_dsn_query_becomes_engine_settings() -> None:
    target = parse_dsn(f"chdb:///var/lib/cs/ch?{SMALL}")
    assert target.embedded_path == "/var/lib/cs/ch"
    assert dict(target.engine) == engine_options(SMALL)
    assert dict(target.engine)["max_threads"] == "1"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("max_server_memory_usagee=1", "'max_server_memory_usagee' is not an embedded-engine"),
        ("max_threads=abc", "max_threads takes a number, not 'abc'"),
        ("max_threads=", "max_threads takes a number, not ''"),
    ],
)
def test_a_misspelled_name_or_a_bad_value_is_refused(query: str, says: str) -> None:
    # The engine itself would ignore the misspelled name without a word.
    with pytest.raises(StoreError, match=says):
        parse_dsn(f"chdb:///data/ch?{query}")


def test_a_real_engine_runs_with_them(tmp_path: Path) -> None:
    settings = read_back(f"chdb://{tmp_path}/ch?{SMALL}")
    assert settings == {
        "max_server_memory_usage": "314572800",
        "mark_cache_size": "33554432",
        "max_threads": "1",
        "max_memory_usage": "268435456",
        "max_bytes_before_external_group_by": "67108864",
    }


def test_a_cgroup_limit_becomes_the_engines_unless_the_dsn_sets_one() -> None:
    gib = 1 << 30
    assert within_cgroup({}, gib) == {"max_server_memory_usage": str(int(gib * CGROUP_SHARE))}
    assert within_cgroup({"max_server_memory_usage": "1"}, gib) == {"max_server_memory_usage": "1"}
    assert within_cgroup({"max_threads": "1"}, None) == {"max_threads": "1"}


@pytest.mark.parametrize(
    ("cgroup", "files", "limit"),
    [
        ("4:memory:/shop\n0::/\n", {"memory/shop/memory.limit_in_bytes": "1073741824"}, 1 << 30),
        ("0::/shop\n", {"shop/memory.max": "536870912"}, 1 << 29),
        ("0::/shop\n", {"shop/memory.max": "max"}, None),
        ("4:memory:/\n", {"memory/memory.limit_in_bytes": "9223372036854771712"}, None),
        ("4:memory:/gone\n", {}, None),
    ],
)
def test_the_cgroup_limit_is_read_from_v1_or_v2(
    tmp_path: Path, cgroup: str, files: dict[str, str], limit: int | None
) -> None:
    (tmp_path / "cgroup").write_text(cgroup)
    for name, text in files.items():
        (tmp_path / "fs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fs" / name).write_text(text + "\n")
    assert cgroup_memory_limit(tmp_path / "cgroup", tmp_path / "fs") == limit


@pytest.mark.skipif(
    not os.access(CGROUP_V1, os.W_OK), reason="needs the cgroup v1 memory controller, as root"
)
def test_a_process_in_a_1_gib_memory_cgroup_limits_its_engine(tmp_path: Path) -> None:
    group = CGROUP_V1 / f"clearsignal-test-{uuid.uuid4().hex[:8]}"
    group.mkdir()
    try:
        (group / "memory.limit_in_bytes").write_text(str(1 << 30))
        enter = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh"]
        settings = read_back(f"chdb://{tmp_path}/ch?max_threads=1", prefix=enter)
    finally:
        group.rmdir()
    # The engine alone would have taken 0.9 of the host's RAM.
    assert settings["max_server_memory_usage"] == str(int((1 << 30) * CGROUP_SHARE))
