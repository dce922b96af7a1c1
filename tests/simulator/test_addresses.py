"""Simulated visitors' addresses are public and placed in the country their table says."""

from __future__ import annotations

from collections import Counter

from collector.ingest.country import CountryLookup
from simulator.addresses import PREFIXES, address


def test_each_prefix_is_distinct_and_wholly_in_its_country() -> None:
    lookup = CountryLookup()
    assert len({prefix for _, prefix in PREFIXES}) == 256
    for index, (country, _) in enumerate(PREFIXES):
        for third, fourth in ((0, 1), (77, 5), (128, 128), (255, 254)):
            assert lookup.country(address(index, third, fourth)) == country, address(
                index, third, fourth
            )


def test_germany_is_the_largest_audience() -> None:
    shares = Counter(country for country, _ in PREFIXES)
    assert shares.most_common(2) == [("DE", 64), ("US", 56)]
