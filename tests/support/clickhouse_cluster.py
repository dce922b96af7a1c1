"""A real multi-node ClickHouse cluster on loopback, for tests only.

Each node is a ``ClickHouseHttpServer`` (the full engine from ``chdb-core`` in a child
process) that also opens the native TCP port, with a ``<remote_servers>`` section naming
every node: ``Distributed`` tables on any node read and write the others over TCP.
The recipe and what it can and cannot do: /work/shared/notes/clickhouse-cluster-from-chdb.md
(no ``ON CLUSTER`` DDL, no ``Replicated*MergeTree``: DDL is run on each node).

Replicas of a shard are written by the ``Distributed`` table itself
(``internal_replication`` false), since there is no replication between these nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .clickhouse_http import ClickHouseHttpServer

__all__ = ["ClickHouseCluster", "running_cluster"]

_REPLICA = "<replica><host>127.0.0.1</host><port>{port}</port></replica>"
# Each node logs its queries (system.query_log), so tests can see what ran where.
_QUERY_LOG = (
    "    <query_log><database>system</database><table>query_log</table>"
    "<flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>\n"
)


class ClickHouseCluster:
    """``shards`` × ``replicas`` nodes named ``name`` in every node's configuration."""

    def __init__(self, directory: Path, shards: int, replicas: int, name: str = "c") -> None:
        self.name = name
        self.shards = [
            [
                ClickHouseHttpServer(directory / f"shard{s}-replica{r}", tcp_port=0)
                for r in range(1, replicas + 1)
            ]
            for s in range(1, shards + 1)
        ]
        layout = "".join(
            "<shard><internal_replication>false</internal_replication>"
            + "".join(_REPLICA.format(port=node.tcp_port) for node in shard)
            + "</shard>"
            for shard in self.shards
        )
        config = f"    <remote_servers><{name}>{layout}</{name}></remote_servers>\n{_QUERY_LOG}"
        for node in self.nodes:
            node.extra_config = config

    @property
    def nodes(self) -> list[ClickHouseHttpServer]:
        return [node for shard in self.shards for node in shard]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def start(self) -> None:
        try:
            for node in self.nodes:
                node.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@contextmanager
def running_cluster(
    directory: Path, shards: int, replicas: int, name: str = "c"
) -> Iterator[ClickHouseCluster]:
    cluster = ClickHouseCluster(directory, shards, replicas, name)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
