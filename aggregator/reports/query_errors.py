"""A question about a site's figures that cannot be answered as asked (a bad period or
filter): the field that is wrong and why, for a 400 answer or a message on the page."""

from __future__ import annotations

from aggregator.errors import AggregatorError

__all__ = ["QueryError"]


class QueryError(AggregatorError, ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail
