"""The Merkle tree against RFC 6962's own definitions and published vectors."""

from __future__ import annotations

import random

import pytest

from consent.merkle import (
    EMPTY_ROOT,
    compose_subtree,
    consistency_path,
    consistency_proof,
    consistency_ranges,
    frontier_append,
    frontier_root,
    inclusion_path,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    root,
    verify_consistency,
    verify_inclusion,
)
from tests.support.rfc6962 import (
    CT_CONSISTENCY,
    CT_ENTRIES,
    CT_INCLUSION,
    CT_ROOTS,
    ENTRIES,
    MAX_SIZE,
    bits_to_flip,
    consistency_shape,
    flip,
    inclusion_shape,
    ref_mth,
    ref_path,
    ref_proof,
    size_flips,
    some_of,
)


@pytest.fixture(scope="module")
def stored_nodes() -> dict[tuple[int, int], bytes]:
    """Perfect-subtree hashes as a store would keep them, written by frontier_append."""
    frontier: list[bytes] = []
    nodes = {}
    for size, entry in enumerate(ENTRIES):
        frontier, created = frontier_append(size, frontier, leaf_hash(entry))
        nodes.update({(node.level, node.index): node.hash for node in created})
    return nodes


def test_hashes_match_the_certificate_transparency_vectors() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert leaf_hash(b"").hex() == CT_ROOTS[1]
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == CT_ROOTS[2]
    for size, expected in enumerate(CT_ROOTS):
        assert root(CT_ENTRIES[:size]).hex() == expected
    for (index, size), proof in CT_INCLUSION.items():
        assert [h.hex() for h in inclusion_proof(index, CT_ENTRIES[:size])] == proof
    for (old, new), proof in CT_CONSISTENCY.items():
        assert [h.hex() for h in consistency_proof(old, CT_ENTRIES[:new])] == proof


def test_root_follows_rfc_6962_for_every_size_up_to_300() -> None:
    for size in range(MAX_SIZE + 1):
        assert root(ENTRIES[:size]) == ref_mth(0, size)


def test_inclusion_proofs_follow_rfc_6962_for_every_size() -> None:
    rng = random.Random(1)
    for size in range(1, MAX_SIZE + 1):
        entries = ENTRIES[:size]
        tree_root = ref_mth(0, size)
        for index in some_of(range(size), size, rng):
            proof = inclusion_proof(index, entries)
            assert proof == ref_path(index, 0, size), (index, size)
            assert verify_inclusion(leaf_hash(entries[index]), index, size, proof, tree_root)


def test_consistency_proofs_follow_rfc_6962_for_every_size() -> None:
    rng = random.Random(2)
    for new in range(MAX_SIZE + 1):
        entries = ENTRIES[:new]
        for old in some_of(range(new + 1), new, rng):
            proof = consistency_proof(old, entries)
            assert proof == ref_proof(old, new), (old, new)
            assert verify_consistency(old, new, ref_mth(0, old), ref_mth(0, new), proof)


def test_every_one_bit_change_to_an_inclusion_proof_or_its_hashes_fails() -> None:
    rng = random.Random(6962)
    for size in range(1, MAX_SIZE + 1):
        tree_root = ref_mth(0, size)
        for index in range(size) if size <= 16 else rng.sample(range(size), 3):
            leaf = ref_mth(index, index + 1)
            proof = ref_path(index, 0, size)
            for bit in bits_to_flip(size, rng):
                assert not verify_inclusion(flip(leaf, bit), index, size, proof, tree_root)
                assert not verify_inclusion(leaf, index, size, proof, flip(tree_root, bit))
                for position, element in enumerate(proof):
                    changed = [*proof[:position], flip(element, bit), *proof[position + 1 :]]
                    assert not verify_inclusion(leaf, index, size, changed, tree_root)


def test_every_one_bit_change_to_a_consistency_proof_or_its_roots_fails() -> None:
    rng = random.Random(9162)
    for new in range(1, MAX_SIZE + 1):
        new_root = ref_mth(0, new)
        for old in range(1, new + 1) if new <= 16 else rng.sample(range(1, new), 3):
            old_root = ref_mth(0, old)
            proof = ref_proof(old, new)
            for bit in bits_to_flip(new, rng):
                assert not verify_consistency(old, new, flip(old_root, bit), new_root, proof)
                assert not verify_consistency(old, new, old_root, flip(new_root, bit), proof)
                for position, element in enumerate(proof):
                    changed = [*proof[:position], flip(element, bit), *proof[position + 1 :]]
                    assert not verify_consistency(old, new, old_root, new_root, changed)


def test_a_changed_index_or_tree_size_fails_unless_the_paths_have_the_same_shape() -> None:
    rng = random.Random(3)
    same_shape_sizes = 0
    for size in range(1, MAX_SIZE + 1):
        tree_root = ref_mth(0, size)
        for index in some_of(range(size), size, rng):
            leaf, proof = ref_mth(index, index + 1), ref_path(index, 0, size)
            for other_index in size_flips(index):
                assert not verify_inclusion(leaf, other_index, size, proof, tree_root)
            for other_size in size_flips(size):
                same_shape = inclusion_shape(index, other_size) == inclusion_shape(index, size)
                assert verify_inclusion(leaf, index, other_size, proof, tree_root) == same_shape
                same_shape_sizes += same_shape
    # Such sizes exist, so the tree size a receipt is checked against must come
    # from a signed checkpoint, never from the receipt alone.
    assert same_shape_sizes > 0


def test_an_inclusion_proof_does_not_by_itself_pin_the_tree_size() -> None:
    # Leaf 0 of 5 has the path [h1, h(2..3), h4]; at size 7 the last hash would
    # be MTH(D[4:7]). A verifier cannot tell the two apart.
    proof = ref_path(0, 0, 5)
    assert verify_inclusion(ref_mth(0, 1), 0, 7, proof, ref_mth(0, 5))


def test_changed_old_or_new_sizes_fail_unless_the_proofs_have_the_same_shape() -> None:
    rng = random.Random(4)
    for new in range(MAX_SIZE + 1):
        for old in some_of(range(new + 1), new, rng):
            proof, roots = ref_proof(old, new), (ref_mth(0, old), ref_mth(0, new))
            shape = consistency_shape(old, new)
            for other_old in size_flips(old):
                expected = consistency_shape(other_old, new) == shape
                assert verify_consistency(other_old, new, *roots, proof) == expected
            if old == 0:
                continue  # the empty tree is a prefix of every tree: no new size to pin
            for other_new in size_flips(new):
                expected = consistency_shape(old, other_new) == shape
                assert verify_consistency(old, other_new, *roots, proof) == expected


def test_path_functions_with_a_subtree_lookup_match_the_rfc_for_every_size() -> None:
    for size in range(MAX_SIZE + 1):
        for index in range(size):
            assert inclusion_path(index, size, ref_mth) == ref_path(index, 0, size)
        for old in range(size + 1):
            assert consistency_path(old, size, ref_mth) == ref_proof(old, size)


def test_proofs_ask_only_for_perfect_subtrees_and_at_most_one_right_edge() -> None:
    def check(ranges: list[tuple[int, int]], size: int) -> None:
        imperfect = [(s, e) for s, e in ranges if len(perfect_subtrees(s, e)) > 1]
        assert len(imperfect) <= 1
        assert all(end == size for _, end in imperfect)

    for size in range(MAX_SIZE + 1):
        for index in range(size):
            check(inclusion_ranges(index, size), size)
        for old in range(size + 1):
            check(consistency_ranges(old, size), size)


def test_appending_to_the_frontier_tracks_the_root_of_every_size() -> None:
    frontier: list[bytes] = []
    for size in range(MAX_SIZE):
        assert frontier_root(frontier) == ref_mth(0, size)
        frontier, created = frontier_append(size, frontier, leaf_hash(ENTRIES[size]))
        assert created[0].level == 0
        assert created[0].index == size
        for node in created:
            assert node.hash == ref_mth(node.index << node.level, (node.index + 1) << node.level)
    assert frontier_root(frontier) == ref_mth(0, MAX_SIZE)


def test_the_stored_nodes_are_each_perfect_subtree_once(
    stored_nodes: dict[tuple[int, int], bytes],
) -> None:
    assert len(stored_nodes) == 2 * MAX_SIZE - MAX_SIZE.bit_count()


def test_stored_nodes_answer_every_proof_for_every_older_tree_size(
    stored_nodes: dict[tuple[int, int], bytes],
) -> None:
    def subtree(start: int, end: int) -> bytes:
        return compose_subtree(start, end, lambda level, index: stored_nodes[level, index])

    rng = random.Random(5)
    for size in range(MAX_SIZE + 1):
        assert subtree(0, size) == ref_mth(0, size)
        for index in some_of(range(size), size, rng):
            assert inclusion_path(index, size, subtree) == ref_path(index, 0, size)
        for old in some_of(range(size + 1), size, rng):
            assert consistency_path(old, size, subtree) == ref_proof(old, size)


def test_a_proof_in_a_million_leaf_log_takes_logarithmically_many_lookups() -> None:
    size = 1_000_000
    lookups: list[tuple[int, int]] = []

    def node(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, "only complete subtrees are stored"
        lookups.append((level, index))
        return bytes(32)

    def subtree(start: int, end: int) -> bytes:
        return compose_subtree(start, end, node)

    rng = random.Random(size)
    for leaf_or_old_size in (1, 524_287, 524_288, 999_999, *rng.sample(range(size), 20)):
        lookups.clear()
        assert len(inclusion_path(leaf_or_old_size, size, subtree)) <= 20
        assert len(lookups) <= 40
        lookups.clear()
        assert len(consistency_path(leaf_or_old_size, size, subtree)) <= 40
        assert len(lookups) <= 60


def test_perfect_subtrees_tile_a_range_with_maximal_aligned_subtrees() -> None:
    assert perfect_subtrees(0, 0) == []
    assert perfect_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_subtrees(5, 13) == [(0, 5), (1, 3), (2, 2), (0, 12)]
    for start in range(70):
        for end in range(start, 70):
            nodes = perfect_subtrees(start, end)
            covered = [(i << level, (i + 1) << level) for level, i in nodes]
            assert [s for s, _ in covered] == [start, *(e for _, e in covered[:-1])][: len(nodes)]
            assert sum(e - s for s, e in covered) == end - start
            for level, index in nodes:
                parent_start = (index >> 1) << (level + 1)
                parent_end = ((index >> 1) + 1) << (level + 1)
                assert parent_start < start or parent_end > end, "not maximal"


def test_composing_a_range_gives_its_merkle_tree_hash_or_refuses() -> None:
    def stored(level: int, index: int) -> bytes:
        return ref_mth(index << level, (index + 1) << level)

    for start in range(70):
        for end in range(start + 1, 70):
            levels = [level for level, _ in perfect_subtrees(start, end)]
            if levels == sorted(set(levels), reverse=True):
                assert compose_subtree(start, end, stored) == ref_mth(start, end)
            else:
                with pytest.raises(ValueError, match="not a subtree"):
                    compose_subtree(start, end, stored)


def test_bad_arguments_raise_value_errors_that_say_what_is_wrong() -> None:
    entries = ENTRIES[:5]
    with pytest.raises(ValueError, match="leaf index -1 is outside a tree of 5 leaves"):
        inclusion_proof(-1, entries)
    with pytest.raises(ValueError, match="leaf index 5 is outside a tree of 5 leaves"):
        inclusion_proof(5, entries)
    with pytest.raises(ValueError, match="outside a tree of 0 leaves"):
        inclusion_path(0, 0, ref_mth)
    with pytest.raises(ValueError, match="old tree size 6 is larger than new tree size 5"):
        consistency_proof(6, entries)
    with pytest.raises(ValueError, match="old tree size -1 is negative"):
        consistency_path(-1, 5, ref_mth)
    with pytest.raises(ValueError, match="left child hash must be 32 bytes"):
        node_hash(b"short", EMPTY_ROOT)
    with pytest.raises(ValueError, match="right child hash must be 32 bytes"):
        node_hash(EMPTY_ROOT, EMPTY_ROOT + b"!")
    with pytest.raises(ValueError, match=r"subtree hash of \[1, 2\) must be 32 bytes"):
        inclusion_path(0, 2, lambda start, end: b"")
    with pytest.raises(ValueError, match="is not a range"):
        perfect_subtrees(5, 3)
    with pytest.raises(ValueError, match="frontier of 2 hashes, not 1"):
        frontier_append(3, [EMPTY_ROOT], EMPTY_ROOT)
    with pytest.raises(ValueError, match="leaf hash must be 32 bytes"):
        frontier_append(0, [], b"entry, not its hash")
    with pytest.raises(ValueError, match="negative"):
        frontier_append(-1, [], EMPTY_ROOT)


def test_malformed_proofs_are_rejected_without_raising() -> None:
    size, index = 8, 5
    leaf, tree_root, proof = ref_mth(index, index + 1), ref_mth(0, size), ref_path(index, 0, size)
    assert verify_inclusion(leaf, index, size, proof, tree_root)
    assert not verify_inclusion(leaf, index, size, proof[:-1], tree_root)
    assert not verify_inclusion(leaf, index, size, [*proof, EMPTY_ROOT], tree_root)
    assert not verify_inclusion(leaf, index, size, [proof[0][:31], *proof[1:]], tree_root)
    assert not verify_inclusion(leaf, index, size, list(reversed(proof)), tree_root)
    assert not verify_inclusion(leaf[:16], index, size, proof, tree_root)
    assert not verify_inclusion(leaf, index, size, proof, tree_root + b"\x00")
    assert not verify_inclusion(leaf, -1, size, proof, tree_root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)

    old_root, new_root, cproof = ref_mth(0, 6), ref_mth(0, 8), ref_proof(6, 8)
    assert verify_consistency(6, 8, old_root, new_root, cproof)
    assert not verify_consistency(6, 8, old_root, new_root, [])
    assert not verify_consistency(6, 8, old_root, new_root, cproof[:-1])
    assert not verify_consistency(6, 8, old_root, new_root, [*cproof, EMPTY_ROOT])
    assert not verify_consistency(6, 8, old_root[:31], new_root, cproof)
    assert not verify_consistency(8, 6, new_root, old_root, cproof)
    assert not verify_consistency(-1, 8, old_root, new_root, cproof)
    assert verify_consistency(8, 8, new_root, new_root, [])
    assert not verify_consistency(8, 8, new_root, new_root, [EMPTY_ROOT])
    assert not verify_consistency(8, 8, old_root, new_root, [])
    assert verify_consistency(0, 8, EMPTY_ROOT, new_root, [])
    assert not verify_consistency(0, 8, old_root, new_root, [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, new_root, [EMPTY_ROOT])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, new_root, [])
