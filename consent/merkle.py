"""The RFC 6962 / RFC 9162 §2.1 Merkle tree of the consent transparency log.

Pure functions over SHA-256: leaf = SHA-256(0x00 || entry), node =
SHA-256(0x01 || left || right), and MTH(D[n]) splits at k, the largest power
of two smaller than n. ``root``, ``inclusion_proof`` and ``consistency_proof``
take the raw entries; the ``*_path`` functions take a ``subtree(start, end)``
lookup instead, so a store can answer proofs without rehashing its leaves.

What a store must keep
----------------------
Every hash a proof asks for is MTH of a range ``[start, end)`` that is either

* a *perfect* subtree ``[i * 2**l, (i + 1) * 2**l)`` -- node ``(l, i)``; or
* a *right-edge* subtree ``[start, tree_size)`` of the tree the proof is
  for (possibly an older size than the log has now), with at most one such
  range per proof.

So a store persists perfect-subtree hashes keyed ``(level, index)`` -- the
``NodeHash`` rows ``frontier_append`` emits, about two per leaf -- and answers
``subtree`` with ``compose_subtree(start, end, node)``, which folds the
``perfect_subtrees(start, end)`` decomposition right to left. A proof then
costs O(log n) node lookups, all known up front from ``inclusion_ranges`` /
``consistency_ranges``, so they can be fetched in one query. The sequencer
keeps the frontier (the hashes of ``perfect_subtrees(0, tree_size)``) in
memory and can rebuild it from the stored nodes after a restart.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from consent._merkle_ranges import (
    consistency_ranges,
    inclusion_ranges,
    perfect_subtrees,
    split,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "NodeHash",
    "SubtreeHash",
    "compose_subtree",
    "consistency_path",
    "consistency_proof",
    "consistency_ranges",
    "frontier_append",
    "frontier_root",
    "inclusion_path",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]
"""``subtree(start, end)`` returns MTH of the leaves ``[start, end)``."""


@dataclass(frozen=True, slots=True)
class NodeHash:
    """The hash of the perfect subtree of leaves ``[index << level, (index + 1) << level)``."""

    level: int
    index: int
    hash: bytes


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    _check_hash(left, "left child hash")
    _check_hash(right, "right child hash")
    return _node(left, right)


def root(entries: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the raw entries; the empty tree's root is SHA-256 of nothing."""
    if not entries:
        return EMPTY_ROOT
    return _entry_subtrees(entries)(0, len(entries))


def inclusion_proof(index: int, entries: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 PATH(index, D[n]): the audit path of one entry, leaf side first."""
    return inclusion_path(index, len(entries), _entry_subtrees(entries))


def consistency_proof(old_size: int, entries: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 PROOF(old_size, D[n]); empty when old_size is 0 or n."""
    return consistency_path(old_size, len(entries), _entry_subtrees(entries))


def inclusion_path(index: int, tree_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(index, D[tree_size]) from a subtree lookup; see the module docstring."""
    return [_lookup(subtree, s, e) for s, e in inclusion_ranges(index, tree_size)]


def consistency_path(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from a subtree lookup; see the module docstring."""
    return [_lookup(subtree, s, e) for s, e in consistency_ranges(old_size, new_size)]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2. False for any bad input, as all of it may come from a receipt.

    The proof authenticates the leaf against ``root`` only: the tree size must
    come from a signed checkpoint, since sizes whose paths have the same shape
    accept the same proof.
    """
    if not (0 <= index < tree_size and _are_hashes(leaf_hash, root, *proof)):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, plus the trivial cases: an empty old tree, equal sizes."""
    if not (0 <= old_size <= new_size and _are_hashes(old_root, new_root, *proof)):
        return False
    if old_size == 0:
        empty_new_tree_ok = new_size > 0 or hmac.compare_digest(new_root, EMPTY_ROOT)
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT) and empty_new_tree_ok
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


def compose_subtree(start: int, end: int, node: Callable[[int, int], bytes]) -> bytes:
    """MTH of ``[start, end)`` from stored perfect-subtree hashes ``node(level, index)``.

    Works for every range a proof requests. A range whose decomposition grows
    left to right (say ``[1, 4)``) is not a subtree of any RFC 6962 tree, and
    folding it would give a wrong hash, so it is refused.
    """
    nodes = perfect_subtrees(start, end)
    if not nodes:
        return EMPTY_ROOT
    if any(left[0] <= right[0] for left, right in pairwise(nodes)):
        raise ValueError(f"[{start}, {end}) is not a subtree of any RFC 6962 tree")
    level, index = nodes[-1]
    composed = _stored(node, level, index)
    for level, index in reversed(nodes[:-1]):
        composed = _node(_stored(node, level, index), composed)
    return composed


def frontier_append(
    tree_size: int, frontier: Sequence[bytes], leaf_hash: bytes
) -> tuple[list[bytes], list[NodeHash]]:
    """Append a leaf to a tree of ``tree_size`` leaves given its right frontier.

    The frontier is the hashes of ``perfect_subtrees(0, tree_size)``, left to
    right (one per set bit of the size). Returns the new frontier and the node
    hashes this leaf completes: the leaf itself at level 0, then every perfect
    subtree it closes.
    """
    if tree_size < 0:
        raise ValueError(f"tree size {tree_size} is negative")
    if len(frontier) != tree_size.bit_count():
        raise ValueError(
            f"a tree of {tree_size} leaves has a frontier of {tree_size.bit_count()} "
            f"hashes, not {len(frontier)}"
        )
    _check_hash(leaf_hash, "leaf hash")
    hashes = list(frontier)
    created = [NodeHash(0, tree_size, leaf_hash)]
    composed, level, index = leaf_hash, 0, tree_size
    while index & 1:
        composed = node_hash(hashes.pop(), composed)
        level, index = level + 1, index >> 1
        created.append(NodeHash(level, index, composed))
    hashes.append(composed)
    return hashes, created


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """The root of the tree whose right frontier this is."""
    if not frontier:
        return EMPTY_ROOT
    composed = frontier[-1]
    for left in reversed(frontier[:-1]):
        composed = node_hash(left, composed)
    _check_hash(composed, "frontier hash")
    return composed


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _entry_subtrees(entries: Sequence[bytes]) -> SubtreeHash:
    leaves = [leaf_hash(entry) for entry in entries]

    def subtree(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        middle = start + split(end - start)
        return _node(subtree(start, middle), subtree(middle, end))

    return subtree


def _lookup(subtree: SubtreeHash, start: int, end: int) -> bytes:
    found = subtree(start, end)
    _check_hash(found, f"subtree hash of [{start}, {end})")
    return found


def _stored(node: Callable[[int, int], bytes], level: int, index: int) -> bytes:
    found = node(level, index)
    _check_hash(found, f"node hash ({level}, {index})")
    return found


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {value!r:.80}")


def _are_hashes(*values: object) -> bool:
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)
