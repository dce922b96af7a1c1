"""The country data geoip2fast ships, held compactly: ``CountryRanges``.

geoip2fast keeps its 788,735 networks as Python integers in module-level lists, some
48 MB of private memory in every process that looks up one address (and for as long as
the process lives). The same networks fit in flat arrays: each network's first address
(4 bytes for IPv4, 16 for IPv6), its prefix length and its country, some 10 MB, looked up
by binary search exactly as geoip2fast looks them up.

The data file is read as geoip2fast reads it (a gzipped pickle of the country-only layout,
versions 120 and 121: a chunked sorted list of first addresses with, chunk for chunk,
prefix lengths and indexes into its ``"CC:Country name"`` list); a file of another layout
raises ``ValueError``. tests/collector/ingest/test_country.py compares every answer with
geoip2fast's own lookup.
"""

from __future__ import annotations

import gzip
import itertools
import pickle
from array import array
from bisect import bisect_right
from pathlib import Path

__all__ = ["CountryRanges", "bundled_data_file"]

_IPV4_END = 1 << 32
_PRIVATE = 16
"""Indexes below this name geoip2fast's private and reserved ranges, not a country."""
_LAYOUTS = (120, 121)


def bundled_data_file() -> Path:
    """geoip2fast's own IPv4 and IPv6 country data."""
    import geoip2fast

    return Path(geoip2fast.__file__).with_name("geoip2fast-ipv6.dat.gz")


class _Wide:
    """Unsigned big-endian integers of ``width`` bytes each, one after another in a byte
    array: what ``bisect`` searches for IPv6 networks, which no ``array`` type holds."""

    def __init__(self, width: int) -> None:
        self._data = bytearray()
        self._width = width

    def append(self, value: int) -> None:
        self._data += value.to_bytes(self._width, "big")

    def __len__(self) -> int:
        return len(self._data) // self._width

    def __getitem__(self, index: int) -> int:
        start = index * self._width
        if not 0 <= start < len(self._data):
            raise IndexError(index)
        return int.from_bytes(self._data[start : start + self._width], "big")


class _Family:
    """The networks of one address family: first addresses, prefix lengths, countries;
    filled one network at a time (no list of Python integers to leave the heap fragmented)."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.firsts: array[int] | _Wide = array("I") if bits == 32 else _Wide(bits // 8)
        self.lengths = array("B")
        self.codes = array("H")

    def add(self, first: int, length: int, code: int) -> None:
        self.firsts.append(first)
        self.lengths.append(length)
        self.codes.append(code)

    def find(self, address: int) -> int | None:
        """The country index of the network holding ``address``, or None outside them."""
        at = bisect_right(self.firsts, address) - 1
        if at < 0 or address > self.firsts[at] + (1 << (self.bits - self.lengths[at])) - 1:
            return None
        return self.codes[at]


class CountryRanges:
    """ISO country codes by address, from a geoip2fast country data file."""

    def __init__(self, data_file: Path) -> None:
        """``data_file``: geoip2fast's (``bundled_data_file``), installed with the code;
        it is a pickle, so never a file from anywhere else."""
        with gzip.open(data_file, "rb") as opened:
            # geoip2fast itself unpickles it: installed code and data, trusted alike.
            version, source, _total, database = pickle.load(opened)  # noqa: S301
        if version not in _LAYOUTS or not source.get("country") or source.get("asn"):
            raise ValueError(f"{data_file} is not geoip2fast's country-only data")
        _index, names, firsts, codes, lengths = database
        self._countries = "".join(f"{name:.2}" for name in names)
        self._v4, self._v6 = _Family(32), _Family(128)
        rows = zip(
            itertools.chain.from_iterable(firsts),
            itertools.chain.from_iterable(lengths),
            itertools.chain.from_iterable(codes),
            strict=True,
        )
        for first, length, code in rows:
            (self._v4 if first < _IPV4_END else self._v6).add(first, length, code)

    def country(self, address: int) -> str:
        """The country code of ``address`` (an IPv4 or IPv6 address as an integer; IPv4
        below 2**32), or "" where the data has none: a private, reserved or unknown one."""
        family = self._v4 if address < _IPV4_END else self._v6
        code = family.find(address)
        return "" if code is None or code < _PRIVATE else self._countries[2 * code : 2 * code + 2]
