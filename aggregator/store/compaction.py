"""Rewriting the partitions that a job's deletes left largely dead.

A lightweight ``DELETE`` (``Store.delete_where``) only masks rows: they stay in their
parts, and every query reads and skips them until a merge rewrites the part. A job that
recomputes many days at once (a backfill, the first run over imported events) masks as
many rows as it writes, and until the merges get there every read scans them twice: over
10 M events, some 40 ms more for each panel of the analytics (bench/dashboard.py), and an
embedded engine that rests between statements merges only while it runs.

So a job that deleted rows calls ``compact`` after its run: each partition of which at
least ``DEAD_SHARE`` of the stored rows are masked is rewritten at once (``OPTIMIZE ...
FINAL``, which also collapses the rows a ``ReplacingMergeTree`` replaced). A rewrite
writes the partition's live rows, at most three for each masked row it drops, so the
work stays in proportion to the deletes: the rollup's run over the current day masks a
share of a month that stays under the quarter, but the sessions job (which recomputes a
returning visitor's every session) and the retention purge mask rows in older months,
whose partitions are rewritten whole once a quarter of each is masked.

On a cluster with ``nodes`` each node rewrites its own ``_local`` partitions; a
replicated cluster without them is left to its merges.
"""

from __future__ import annotations

import re

from aggregator.store.client import Store

__all__ = ["DEAD_SHARE", "compact"]

DEAD_SHARE = 0.25
_PARTITION_ID = re.compile(r"[0-9A-Za-z_-]+")


def compact(store: Store, table: str) -> list[str]:
    """Rewrite each partition of ``table`` whose masked rows are at least ``DEAD_SHARE``
    of its stored rows, wherever it is stored; the partition ids rewritten."""
    rewritten = []
    for target, suffix in store.shard_targets():
        stored = f"{table}{suffix}"
        for partition in _dead_partitions(target, stored):
            target.command(f"OPTIMIZE TABLE `{stored}` PARTITION ID '{partition}' FINAL")
            rewritten.append(partition)
    return rewritten


def _dead_partitions(store: Store, table: str) -> list[str]:
    """The partitions of ``table`` (on this node) at or over the dead share."""
    stored = dict(
        store.rows(
            "SELECT partition_id, sum(rows) FROM system.parts WHERE active "
            "AND database = currentDatabase() AND table = {table:String} "
            "GROUP BY partition_id HAVING max(has_lightweight_delete) = 1",
            {"table": table},
        )
    )
    if not stored:
        return []
    live = dict(
        store.rows(
            f"SELECT _partition_id, count() FROM `{table}` "
            "WHERE _partition_id IN {partitions:Array(String)} GROUP BY _partition_id",
            {"partitions": list(stored)},
        )
    )
    return sorted(
        partition
        for partition, rows in stored.items()
        if _PARTITION_ID.fullmatch(partition) and rows - live.get(partition, 0) >= DEAD_SHARE * rows
    )
