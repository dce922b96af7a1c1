"""Exceptions of the aggregator package.

AggregatorError
 ├── StoreError          a ClickHouse call failed (keeps the server's error code)
 │    └── StoreUnavailable   the store could not be reached at all (also a
 │                           ConnectionError, which the layers below catch by that name)
 └── MigrationError      a migration file is malformed, changed after it was applied, or failed
"""

from __future__ import annotations

__all__ = ["AggregatorError", "MigrationError", "StoreError", "StoreUnavailable"]


class AggregatorError(Exception):
    """Base class of every error raised by the aggregator package."""


class StoreError(AggregatorError):
    """A ClickHouse call failed. ``code`` is ClickHouse's numeric error code when it sent one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class StoreUnavailable(StoreError, ConnectionError):
    """The store did not answer (connection refused, timeout, engine not loadable)."""


class MigrationError(AggregatorError):
    """A migration could not be applied; the message names the file and statement."""
