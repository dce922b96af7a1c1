"""Which aggregate groups a site may see: none smaller than k, none derivable by subtraction.

A group is a count of distinct visitors (with an optional value such as clicks). Three
shapes occur in the daily summaries:

- ``independent``: groups that are not parts of anything published (hot spots). Each is
  published when it holds at least k visitors.
- ``chain``: a total followed by ever smaller subsets of it (the day's visitors, then
  those who reached funnel step 1, step 2, ...). Besides each group, the difference
  between two published groups is a group too ("reached step 1 but not step 2"), so a
  group is published only when it and its difference to the last published group are
  each either 0 or at least k. In a non-increasing chain that bounds every pairwise
  difference, not only neighbouring ones.
- ``partition``: disjoint parts of a published total (cases by rule, by week opened).
  Besides each part, the parts hidden together must hold 0 or at least k, or the total
  minus the published parts would give them away; while they hold fewer, the smallest
  published part is hidden too.
- ``subsets of a total``: groups inside published totals that are not parts of a chain
  (visitors with a signal among identified visitors and among all visitors). Each group
  and its complement in each total (total minus group) must be 0 or at least k.
- ``cells``: a count under filters (visitors who match filters A and B). Whoever may ask
  for it may also ask with any of the filters dropped, and subtract: "A and B" from "A"
  gives "A and not B". From the answers to every subset of the filters, inclusion and
  exclusion give each cell (the visitors who match exactly these filters and not the
  others), so a count under filters is published only when every cell is 0 or at least k
  (``cells_safe``); a row of a table is one more filter.

Zero is publishable: an empty group describes nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = ["Group", "cells_safe", "chain", "independent", "partition", "subsets_of_totals"]


@dataclass(frozen=True)
class Group:
    dimension: str
    visitors: int
    value: float
    suppressed: bool = False

    def hidden(self) -> Group:
        """The group as stored when suppressed: the small numbers are not kept at all."""
        return replace(self, visitors=0, value=0.0, suppressed=True)


def _safe(count: int, k: int) -> bool:
    return count == 0 or count >= k


def independent(groups: Sequence[Group], k: int) -> list[Group]:
    return [g if g.visitors >= k else g.hidden() for g in groups]


def chain(groups: Sequence[Group], k: int) -> list[Group]:
    """``groups[0]`` is the total; each next group is a subset of the one before."""
    published: list[Group] = []
    last: int | None = None
    for group in groups:
        if last is not None and group.visitors > last:
            raise ValueError(f"{group.dimension} has more visitors than the group before it")
        difference = 0 if last is None else last - group.visitors
        if (group.visitors >= k or (group.visitors == 0 and last is not None)) and _safe(
            difference, k
        ):
            published.append(group)
            last = group.visitors
        else:
            published.append(group.hidden())
            if last is None:  # without its total, nothing in the chain may be shown
                return published + [g.hidden() for g in groups[len(published) :]]
    return published


def subsets_of_totals(groups: Sequence[Group], totals: Sequence[int], k: int) -> list[Group]:
    """``groups`` are each inside every published total in ``totals`` (the day's visitors,
    the identified visitors): a group and its complement in each total must be safe."""
    return [
        g
        if g.visitors >= k
        and all(total >= k and _safe(max(0, total - g.visitors), k) for total in totals)
        else g.hidden()
        for g in groups
    ]


def cells_safe(cells: Iterable[int], k: int) -> bool:
    """Whether a count may be published whose cells (see the module's docstring) are these."""
    return all(_safe(cell, k) for cell in cells)


def partition(
    groups: Sequence[Group], k: int, allowed: Sequence[bool] | None = None
) -> list[Group]:
    """``groups`` are disjoint parts of a published total (see the module's docstring);
    ``allowed`` may hide some beforehand, for a reason of their own."""
    shown = [g.visitors >= k and (allowed is None or allowed[i]) for i, g in enumerate(groups)]
    while True:
        hidden = sum(g.visitors for g, visible in zip(groups, shown, strict=True) if not visible)
        published = [i for i, visible in enumerate(shown) if visible]
        if _safe(hidden, k) or not published:
            break
        shown[min(published, key=lambda i: (groups[i].visitors, i))] = False
    return [g if visible else g.hidden() for g, visible in zip(groups, shown, strict=True)]
