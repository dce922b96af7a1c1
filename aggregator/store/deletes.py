"""Deleting rows a job recomputes or no longer may keep: lightweight ``DELETE FROM``.

A ``DELETE`` is stored as a mutation whose condition ClickHouse serialises and parses
again, and a bound ``DateTime64`` parameter does not survive that (it comes back as
seconds since the epoch, which DateTime64 cannot parse). Conditions therefore bind times
as text (``utc_text``) and convert them in SQL: ``toDateTime64({since:String}, 3, 'UTC')``.

On a cluster the rows live in the ``<table>_local`` tables of every node (see
``aggregator.store.cluster_ddl``), so the statement goes there ``ON CLUSTER``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from aggregator.store.client import Store

__all__ = ["delete_where", "utc_text"]


def delete_where(
    store: Store, table: str, where: str, parameters: Mapping[str, object], cluster: str | None
) -> None:
    target = f"`{table}_local` ON CLUSTER `{cluster}`" if cluster else f"`{table}`"
    store.command(f"DELETE FROM {target} WHERE {where}", dict(parameters))


def utc_text(moment: datetime) -> str:
    """``moment`` as the text ``toDateTime64(..., 3, 'UTC')`` reads back exactly."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
