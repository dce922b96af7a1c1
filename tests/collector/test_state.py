"""Typed state from the lifespan: read back as its type, or a clear error."""

from __future__ import annotations

import pytest

from collector.state import lifespan_state


class Thing:
    pass


def test_state_is_read_back_as_the_type_it_was_yielded_as() -> None:
    thing = Thing()
    assert lifespan_state({"state": {"thing": thing}}, "thing", Thing) is thing


@pytest.mark.parametrize("scope", [{}, {"state": {}}, {"state": {"thing": "not a Thing"}}])
def test_missing_or_mistyped_state_says_the_app_is_not_running(scope: dict[str, object]) -> None:
    with pytest.raises(RuntimeError, match="lifespan has not opened 'thing'"):
        lifespan_state(scope, "thing", Thing)
