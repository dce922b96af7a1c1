"""The slice of the ClickHouse store that consent code needs.

``consent`` depends on no other ClearSignal package; the aggregator's ``Store``
satisfies this protocol structurally and is what runs in production and tests. A call
raises ``ConnectionError`` when the store does not answer at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["Database"]


class Database(Protocol):
    @property
    def cluster(self) -> str | None:
        """The cluster the store spans; None for one node."""
        ...

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any: ...

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple[Any, ...]]: ...

    def everywhere(self, table: str) -> str:
        """A FROM clause with ``table``'s rows on every replica of every shard."""
        ...

    def alter(self, table: str, action: str, parameters: dict[str, Any] | None = None) -> None:
        """``ALTER TABLE`` the rows of ``table`` wherever they are stored."""
        ...

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None: ...
