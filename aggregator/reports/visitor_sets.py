"""The analytics' distinct visitors as bitmap arithmetic over the visitor sets.

The analytics job keeps, per day, table and row, the bitmap of the numbers of the row's
visitors (``row_visitors``, ``aggregator.jobs.visitor_sets``). Over a period:

- a row's visitors are the union of its days' bitmaps, and the period's visitors
  (``everyone``) the union of the days' own rows;
- filter ``i`` keeps ``set_i``: the union of its row's bitmaps (a page, a country), or for a
  signal the visitors with it in the period;
- the visitors whose mask is ``m`` (who matched just the filters of ``m``'s bits) are
  ``everyone`` intersected with ``set_i`` for each bit of ``m`` and with its complement for
  the others: ``masks``, a partition of ``everyone``;
- a row's cells, its visitors per mask, are the sizes of its union intersected with each;
- what a row counts (pageviews of a page) is, over its bitmaps of each day and number of
  hits, the hits times the size of the bitmap (intersected with the visitors who match
  every filter).

So no answer counts distinct visitors by hashing the period's rows. ``matched`` gives each
visitor who matched a filter their mask, for what is counted per visit (``sessions``) or
per visitor of the whole period (engaged time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aggregator.reports.breakdowns import EVERYONE, Breakdown, day_table
from aggregator.reports.filters import Dimension, Filters

__all__ = ["DAYS", "VisitorSets"]

DAYS = "site = {site:String} AND day >= {first:Date} AND day <= {last:Date}"
"""The rows of the period's days (of ``visitor_days``, ``row_visitors``)."""


def _union(table: str, row: str = "") -> str:
    """The period's bitmap of ``table``'s ``row``, or of the whole table."""
    which = f" AND row = {row}" if row else ""
    return (
        "(SELECT groupBitmapOrState(visitors) FROM row_visitors FINAL "
        f"WHERE {DAYS} AND breakdown = '{table}'{which})"
    )


class VisitorSets:
    def __init__(self, filters: Filters) -> None:
        self.filters = filters
        self.full = filters.full

    def aliases(self) -> tuple[str, dict[str, Any]]:
        """The ``WITH`` expressions of a statement over the visitor sets: ``everyone``,
        each filter's ``set_i``, and ``masks`` (the partition, indexed by mask + 1); and
        their parameters."""
        parts = [f"{_union(EVERYONE)} AS everyone"]
        parameters: dict[str, Any] = {}
        for bit, item in enumerate(self.filters.items):
            name = f"filter_{bit}"
            parameters[name] = item.value
            table = day_table(item.dimension)
            if item.dimension is Dimension.SIGNAL:
                found = (
                    "bitmapAnd(everyone, (SELECT groupBitmapState(number) FROM visitor_numbers "
                    "WHERE site = {site:String} AND visitor IN (SELECT sipHash64(visitor_key) "
                    "FROM signals WHERE site = {site:String} "
                    f"AND rule_id = {{{name}:String}} AND window_end >= {{start:DateTime}} "
                    "AND window_end < {end:DateTime})))"
                )
            else:
                found = _union(table, f"{{{name}:String}}")
            parts.append(f"{found} AS set_{bit}")
        # Split everyone by each filter in turn: part_<bits> holds the visitors who matched
        # just the filters of <bits> (filter 0 the lowest bit), among those split so far.
        level = {"": "everyone"}
        for bit in range(len(self.filters)):
            split = {}
            for bits, alias in level.items():
                split["0" + bits] = f"bitmapAndnot({alias}, set_{bit})"
                split["1" + bits] = f"bitmapAnd({alias}, set_{bit})"
            for bits, sql in split.items():
                parts.append(f"{sql} AS part_{bits}")
            level = {bits: f"part_{bits}" for bits in split}
        by_mask = sorted(level.items(), key=lambda item: int(item[0] or "0", 2))
        parts.append(f"[{', '.join(alias for _, alias in by_mask)}] AS masks")
        return ", ".join(parts), parameters

    def matched(self) -> str:
        """Each visitor who matched a filter, and their mask (others have mask 0)."""
        bits = " + ".join(
            f"bitShiftLeft(toUInt32(bitmapContains(set_{bit}, number)), {bit})"
            for bit in range(len(self.filters))
        )
        return (
            f"SELECT visitor, {bits} AS mask FROM visitor_numbers "
            "WHERE site = {site:String} AND mask != 0"
        )

    def total_sql(self) -> str:
        """The period's visitors per mask, and the pageviews of those who match every
        filter (rows: '', mask, visitors, value)."""
        return self._cells(
            lambda value: (
                "SELECT '' AS t, '' AS row, groupBitmapOrState(visitors) AS v, "
                f"{value} AS value FROM row_visitors FINAL WHERE {DAYS} AND breakdown = '{EVERYONE}'"
            )
        )

    def tables_sql(self, tables: list[Breakdown]) -> str:
        """The cells and values of the rows of the day ``tables`` (rows: t, the table's
        name, row, mask, visitors, value)."""
        names = ", ".join(f"'{table.name}'" for table in tables)
        return self._cells(
            lambda value: (
                "SELECT breakdown AS t, row, groupBitmapOrState(visitors) AS v, "
                f"{value} AS value FROM row_visitors FINAL WHERE {DAYS} AND breakdown IN ({names}) "
                "GROUP BY t, row"
            )
        )

    def _cells(self, unions: Callable[[str], str]) -> str:
        """Rows of t, row, mask, visitors and value from ``unions(value)`` (rows of t, row,
        the period's bitmap ``v`` and ``value``: the hits of the visitors who match every
        filter, summed)."""
        if not self.filters:
            value = "sum(hits * bitmapCardinality(visitors))"
            return (
                "SELECT t, row, toUInt32(0) AS mask, bitmapCardinality(v) AS visitors, value "
                f"FROM ({unions(value)})"
            )
        value = f"sum(hits * bitmapAndCardinality(visitors, masks[{self.full + 1}]))"
        return (
            "SELECT t, row, toUInt32(position - 1) AS mask, cell AS visitors, "
            f"if(mask = {self.full}, value, 0) AS value FROM (SELECT t, row, value, "
            f"arrayMap(s -> bitmapAndCardinality(v, s), masks) AS cells FROM ({unions(value)})) "
            "ARRAY JOIN cells AS cell, arrayEnumerate(cells) AS position"
        )
