"""RFC 6962 §2.1, transcribed as a reference for the Merkle tree's tests, Certificate
Transparency's published vectors, and helpers that tamper with proofs bit by bit."""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Iterator

from consent.merkle import consistency_ranges, inclusion_ranges

MAX_SIZE = 300
# Above these tree sizes the slower checks look at a sample of indices / old
# sizes, to keep the whole module within seconds.
EVERY_INDEX_UP_TO = 100
EVERY_BIT_UP_TO = 40  # bit flips: every bit up to here, for every index up to size 16
ENTRIES = [f"consent record {i}".encode() for i in range(MAX_SIZE)]


# A reference implementation transcribed from RFC 6962 §2.1. D[lo:hi] is passed
# as two indices into ENTRIES so that MTH can be memoised across tree sizes.


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def ref_mth(lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + ENTRIES[lo]).digest()
    k = largest_power_of_two_below(n)
    return hashlib.sha256(b"\x01" + ref_mth(lo, lo + k) + ref_mth(lo + k, hi)).digest()


def ref_path(m: int, lo: int, hi: int) -> list[bytes]:
    n = hi - lo
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*ref_path(m, lo, lo + k), ref_mth(lo + k, hi)]
    return [*ref_path(m - k, lo + k, hi), ref_mth(lo, lo + k)]


def ref_subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if b else [ref_mth(lo, hi)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*ref_subproof(m, lo, lo + k, b), ref_mth(lo + k, hi)]
    return [*ref_subproof(m - k, lo + k, hi, False), ref_mth(lo, lo + k)]


def ref_proof(m: int, n: int) -> list[bytes]:
    return [] if m in (0, n) else ref_subproof(m, 0, n, True)


def flip(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def bits_to_flip(size: int, rng: random.Random) -> Iterator[int]:
    if size <= EVERY_BIT_UP_TO:
        yield from range(256)
    else:
        yield from (0, 255, rng.randrange(256))


def some_of(values: range, size: int, rng: random.Random) -> list[int]:
    """All of ``values`` for small trees; for larger ones the edges, the split and a few more."""
    if size <= EVERY_INDEX_UP_TO:
        return list(values)
    k = largest_power_of_two_below(size)
    edges = {values[0], values[1], k - 1, k, k + 1, values[-2], values[-1]}
    return sorted(edges.union(rng.sample(values, 3)) & set(values))


def size_flips(value: int) -> list[int]:
    return [value ^ (1 << bit) for bit in (*range(value.bit_length() + 2), 63)]


def inclusion_shape(index: int, size: int) -> tuple[bool, ...] | None:
    """What a verifier sees of a path: its length and which side each hash is on."""
    if not 0 <= index < size:
        return None
    return tuple(start < index for start, _ in inclusion_ranges(index, size))


def consistency_shape(old: int, new: int) -> object:
    if not 0 <= old <= new:
        return None
    if old == 0:
        return "empty old tree"
    if old == new:
        return "same tree"
    old_is_perfect = old & (old - 1) == 0
    return old_is_perfect, tuple(end <= old for _, end in consistency_ranges(old, new))


# Certificate Transparency's test vectors (as in transparency-dev/merkle testonly).
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
