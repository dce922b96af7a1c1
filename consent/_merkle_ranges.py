"""Index arithmetic of RFC 6962 trees: which leaf ranges a proof is made of.

No hashing here; ``consent.merkle`` re-exports the public names.
"""

from __future__ import annotations

__all__ = ["consistency_ranges", "inclusion_ranges", "perfect_subtrees", "split"]


def split(size: int) -> int:
    """RFC 6962's k: the largest power of two smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PATH(index, D[tree_size]), in proof order."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    ranges = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + split(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PROOF(old_size, D[new_size]), in proof order.

    Empty when ``old_size`` is 0 or ``new_size``: RFC 6962 defines PROOF for
    0 < m < n only, and both trivial cases need no hashes.
    """
    if old_size < 0:
        raise ValueError(f"old tree size {old_size} is negative")
    if old_size > new_size:
        raise ValueError(f"old tree size {old_size} is larger than new tree size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges = []
    start, end = 0, new_size
    whole_old_tree = True  # SUBPROOF's b: is [start, old_size) the entire old tree?
    while old_size != end:
        middle = start + split(end - start)
        if old_size <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into maximal aligned perfect subtrees ``(level, index)``.

    Left to right; ``(level, index)`` covers ``[index * 2**level, (index + 1) * 2**level)``.
    """
    if not 0 <= start <= end:
        raise ValueError(f"[{start}, {end}) is not a range of leaf indices")
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes
