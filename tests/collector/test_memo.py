"""Caches keyed on request values keep only short keys, and only so many."""

from __future__ import annotations

from collector.memo import cached_when_short
from collector.origins import origin_of


def test_short_text_is_remembered_and_long_text_computed_every_time() -> None:
    calls: list[str] = []

    @cached_when_short(8, entries=2)
    def upper(text: str) -> str:
        calls.append(text)
        return text.upper()

    assert [upper("abc"), upper("abc"), upper("x" * 9), upper("x" * 9)] == [
        "ABC", "ABC", "X" * 9, "X" * 9,
    ]  # fmt: skip
    assert calls == ["abc", "x" * 9, "x" * 9]
    upper("d")
    upper("e")
    upper("abc")  # pushed out by two newer entries
    assert calls[-1] == "abc"


def test_origins_of_long_referers_are_read_but_never_kept() -> None:
    long_referer = "https://shop.example/" + "p" * 100_000
    assert origin_of(long_referer) == "https://shop.example"
    assert origin_of("https://Shop.example:8443/a") == "https://shop.example:8443"
    assert origin_of(None) is None
    assert origin_of("not a url") is None
