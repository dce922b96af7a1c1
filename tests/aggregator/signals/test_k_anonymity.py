"""What a site may see: no group under k, none derivable by subtracting published groups."""

from __future__ import annotations

import itertools
import random

import pytest

from aggregator.signals.k_anonymity import Group, chain, independent, subsets_of_totals

K = 10


def counts(groups: list[Group]) -> list[int | None]:
    return [None if g.suppressed else g.visitors for g in groups]


def test_independent_groups_under_k_are_hidden_and_their_numbers_dropped() -> None:
    shown = independent([Group("a", 12, 40.0), Group("b", 9, 30.0), Group("c", 10, 11.0)], K)
    assert counts(shown) == [12, None, 10]
    assert shown[1] == Group("b", 0, 0.0, suppressed=True)


def test_a_funnel_step_that_would_reveal_a_small_drop_off_is_hidden() -> None:
    funnel = [Group("total", 100, 100), Group("cart", 95, 95), Group("shipping", 60, 60)]
    # 100 - 95 = 5 visitors left before the cart: cart is hidden; shipping differs by 40.
    assert counts(chain(funnel, K)) == [100, None, 60]


def test_a_chain_without_its_total_shows_nothing() -> None:
    assert counts(chain([Group("total", 9, 9), Group("cart", 0, 0)], K)) == [None, None]


def test_empty_steps_are_published() -> None:
    assert counts(chain([Group("total", 40, 40), Group("cart", 0, 0)], K)) == [40, 0]


def test_a_chain_must_not_grow() -> None:
    with pytest.raises(ValueError, match="more visitors"):
        chain([Group("total", 10, 10), Group("cart", 11, 11)], K)


def test_subsets_of_a_total_hide_small_complements() -> None:
    groups = [Group("a", 45, 45), Group("b", 50, 50), Group("c", 12, 12), Group("d", 3, 3)]
    # 50 - 45 = 5 visitors without a: hidden; b is everyone; c and its complement are large.
    assert counts(subsets_of_totals(groups, [50], K)) == [None, 50, 12, None]
    # Inside two totals, the complement in each counts: 60 - 50 = 10 is safe, 52 - 45 is not.
    assert counts(subsets_of_totals(groups, [50, 60], K)) == [None, 50, 12, None]
    assert counts(subsets_of_totals([Group("b", 50, 50)], [52, 60], K)) == [None]


def random_chain(rng: random.Random) -> list[int]:
    sizes = [rng.randrange(0, 80)]
    for _ in range(rng.randrange(1, 7)):
        sizes.append(max(0, sizes[-1] - rng.randrange(0, 25)))
    return sizes


def test_no_published_difference_in_a_random_chain_is_a_small_group() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        sizes = random_chain(rng)
        shown = counts(chain([Group(str(i), n, n) for i, n in enumerate(sizes)], K))
        published = [c for c in shown if c is not None]
        assert all(c == 0 or c >= K for c in published), (sizes, shown)
        for a, b in itertools.combinations(published, 2):
            assert a - b == 0 or a - b >= K, (sizes, shown)


def test_a_chain_with_large_steps_is_shown_whole() -> None:
    rng = random.Random(6)
    for _ in range(500):
        sizes = sorted((rng.randrange(K, 40) * K for _ in range(rng.randrange(1, 7))), reverse=True)
        assert counts(chain([Group(str(i), n, n) for i, n in enumerate(sizes)], K)) == sizes
