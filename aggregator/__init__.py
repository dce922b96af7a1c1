"""The aggregator: the ClickHouse store, its migrations, and the jobs that turn events
into signals and summaries."""

from aggregator.errors import AggregatorError, MigrationError, StoreError, StoreUnavailable
from aggregator.migrations import migrate
from aggregator.store import Store, open_store

__all__ = [
    "AggregatorError",
    "MigrationError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "migrate",
    "open_store",
]
