"""Compaction on the real engines: a partition a delete left largely dead is rewritten
without its masked rows, one barely touched is left to the merges, and nothing live is
lost. On a cluster (tests/cluster), each node rewrites its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aggregator.store.client import Store
from aggregator.store.compaction import compact


def stored_and_live(store: Store, table: str) -> dict[str, tuple[int, int]]:
    """Per partition: the rows its parts hold (masked or not), and the rows a query sees."""
    stored = store.rows(
        "SELECT partition_id, sum(rows) FROM system.parts WHERE active "
        "AND database = currentDatabase() AND table = {table:String} GROUP BY partition_id",
        {"table": table},
    )
    live = dict(store.rows(f"SELECT _partition_id, count() FROM {table} GROUP BY _partition_id"))
    return {partition: (int(rows), int(live.get(partition, 0))) for partition, rows in stored}


def compactions(monkeypatch: pytest.MonkeyPatch, module: str) -> dict[str, list[str]]:
    """What ``compact``, as ``module`` calls it, rewrote per table: so that a test cannot
    pass on a background merge that got there first."""
    rewritten: dict[str, list[str]] = {}

    def spied(
        store: Store, table: str, real: Callable[[Store, str], list[str]] = compact
    ) -> list[str]:
        rewritten[table] = rewritten.get(table, []) + real(store, table)
        return rewritten[table]

    monkeypatch.setattr(f"{module}.compact", spied)
    return rewritten


def test_a_partition_mostly_deleted_is_rewritten_and_one_barely_touched_is_not(
    store: Store,
) -> None:
    store.command(
        "CREATE TABLE kept (month Date, n UInt32) ENGINE = MergeTree "
        "PARTITION BY toYYYYMM(month) ORDER BY n"
    )
    for month in ("2026-01-01", "2026-02-01"):  # one part each: nothing for a merge to do
        store.command(f"INSERT INTO kept SELECT '{month}', number FROM numbers(100)")
    assert compact(store, "kept") == []  # nothing deleted
    store.delete_where("kept", "month = '2026-01-01' AND n < 40")  # 40 %
    store.delete_where("kept", "month = '2026-02-01' AND n < 10")  # 10 %
    assert stored_and_live(store, "kept") == {"202601": (100, 60), "202602": (100, 90)}
    assert compact(store, "kept") == ["202601"]
    assert stored_and_live(store, "kept") == {"202601": (60, 60), "202602": (100, 90)}
    assert store.rows("SELECT min(n), max(n), count() FROM kept WHERE month = '2026-01-01'") == [
        (40, 99, 60)
    ]
    assert compact(store, "kept") == []  # done: no masked rows left there
