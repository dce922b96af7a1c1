"""Results remembered per request value, in memory only, with both bounds a client cannot
stretch: how many entries, and how long a key may be.

Pages, referrers, origins and labels repeat across visitors, so the edge remembers what
it computed of them; but the values come from requests, and a cache keyed on whatever a
client sends would hold whatever a client sends. ``cached_when_short(limit)`` remembers a
result only for a first argument (the text) of at most ``limit`` characters, in a
least-recently-used table of ``entries``; longer text is computed every time. Nothing of
it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Concatenate, ParamSpec, TypeVar

__all__ = ["cached_when_short"]

_P = ParamSpec("_P")
_Result = TypeVar("_Result")


def cached_when_short(
    limit: int, entries: int = 16_384
) -> Callable[[Callable[Concatenate[str, _P], _Result]], Callable[Concatenate[str, _P], _Result]]:
    def decorate(
        compute: Callable[Concatenate[str, _P], _Result],
    ) -> Callable[Concatenate[str, _P], _Result]:
        cached: Callable[..., _Result] = lru_cache(maxsize=entries)(compute)

        @wraps(compute)
        def call(text: str, /, *args: _P.args, **kwargs: _P.kwargs) -> _Result:
            if len(text) <= limit:
                return cached(text, *args, **kwargs)
            return compute(text, *args, **kwargs)

        return call

    return decorate
