"""What the scrubber removes and keeps, and that no input makes it slow."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.ingest.scrub import (
    REDACTED,
    page_url_and_path,
    referrer_origin,
    scrub_mapping,
    scrub_text,
    scrub_url,
)

ALLOW = ("utm_*",)
R = REDACTED


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        # e-mail addresses, raw and percent-encoded
        ("write to ada@example.com today", f"write to {R} today"),
        ("ada.lovelace+shop@mail.example.co.uk", R),
        ("ada%40example.com", R),
        # phone numbers, international and national with separators
        ("call +44 20 7946 0958", f"call {R}"),
        ("call 0044 20 7946 0958", f"call {R}"),
        ("555-123-4567", R),
        ("tel 555.123.4567.", f"tel {R}."),
        # tokens: JWTs and long runs that mix digits and letters
        ("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", f"t={R}"),
        ("key sk_live_51HxAbcdEFghIJklMNop2345", f"key {R}"),
        ("id 9f86d081-884c-7d65-9a2f-e3b0c44298fc", f"id {R}"),
        # kept: words, numbers, prices, dates, product codes, short ids
        ("Add to cart", "Add to cart"),
        ("Price 1,299.00 EUR", "Price 1,299.00 EUR"),
        ("2026-12-06", "2026-12-06"),
        ("order 12345", "order 12345"),
        ("SKU-WAL-DESK-01", "SKU-WAL-DESK-01"),
        ("supercalifragilisticexpialidocious", "supercalifragilisticexpialidocious"),
        ("12345678901234567890123456789", "12345678901234567890123456789"),
        ("", ""),
    ],
)
def test_secrets_in_text_are_redacted_and_the_rest_is_kept(text: str, stored: str) -> None:
    assert scrub_text(text) == stored


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        # only allow-listed query keys stay
        (
            "https://shop.example/p?utm_source=news&id=7&q=desk",
            "https://shop.example/p?utm_source=news",
        ),
        ("https://shop.example/p?email=ada%40example.com", "https://shop.example/p"),
        (
            "https://shop.example/p?utm_term=ada%40example.com",
            f"https://shop.example/p?utm_term={R}",
        ),
        # credentials in the authority go, plain fragments go, SPA routes stay
        ("https://user:pw@shop.example/a#top", "https://shop.example/a"),
        ("https://shop.example/app#/orders/42", "https://shop.example/app#/orders/42"),
        # a secret in the path is redacted; percent-encoding is kept as sent
        ("https://shop.example/reset/ada@example.com", f"https://shop.example/reset/{R}"),
        ("https://shop.example/caf%C3%A9/menu", "https://shop.example/caf%C3%A9/menu"),
        # international domain names, in either form
        ("https://xn--bcher-kva.example/buch", "https://xn--bcher-kva.example/buch"),
        ("https://bücher.example/buch", "https://bücher.example/buch"),
    ],
)
def test_urls_keep_only_what_the_site_allows(url: str, stored: str) -> None:
    assert scrub_url(url, ALLOW) == stored


def test_a_page_is_grouped_by_its_path_and_spa_route() -> None:
    assert page_url_and_path("https://shop.example/app?id=1#/orders/42", ALLOW)[1] == (
        "/app#/orders/42"
    )
    assert page_url_and_path("https://shop.example", ALLOW)[1] == "/"


def test_an_external_referrer_is_reduced_to_its_origin() -> None:
    page = "https://shop.example/p"
    assert referrer_origin("https://search.example/q?s=ada", page, ALLOW) == (
        "https://search.example"
    )
    assert referrer_origin("https://shop.example/a?id=3&utm_medium=x", page, ALLOW) == (
        "https://shop.example/a?utm_medium=x"
    )
    assert referrer_origin("not a url", page, ALLOW) == ""


def test_props_are_text_with_secrets_redacted() -> None:
    assert scrub_mapping({"n": 3.0, "ok": True, "who": "ada@example.com", "f": 1.5}) == {
        "n": "3",
        "ok": "true",
        "who": R,
        "f": "1.5",
    }


# Runs that made Python's backtracking patterns quadratic: every position a word
# boundary, every start a scan to the end of the run.
HOSTILE_UNITS = ["a-", "a.", "1-", "a1", "a@", "%40a", "+0", "00", "eyJ", "1 ", "a_", "-"]


@settings(max_examples=25, deadline=None)
@given(unit=st.sampled_from(HOSTILE_UNITS) | st.text(min_size=1, max_size=4))
def test_scrubbing_time_grows_linearly_with_hostile_text(unit: str) -> None:
    def seconds(size: int) -> float:
        text = (unit * (size // len(unit) + 1))[:size]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            scrub_text(text)
            scrub_url("https://shop.example/" + text, ALLOW)
            best = min(best, time.perf_counter() - started)
        return best

    small, large = seconds(4_000), seconds(32_000)
    # 8 times the text: linear time is about 8 times the time; quadratic would be 64.
    assert large < 24 * small + 0.002, (unit, small, large)
