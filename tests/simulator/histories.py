"""Hand-made event histories for the simulator's tests: events as its rules' reference
reads them, at times counted back from one fixed end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clearsignal.settings import demo_site

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE = demo_site()


@dataclass(frozen=True)
class Ev:
    ts: int
    type: str = "pageview"
    path: str = "/demo/"
    name: str | None = None


def at(day: float, seconds: float = 0) -> int:
    """``day`` days before END, plus seconds."""
    return int((END - timedelta(days=day) + timedelta(seconds=seconds)).timestamp() * 1000)
