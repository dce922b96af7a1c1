"""The period a dashboard or Stats API answer covers, and the period it is compared with.

A period is whole UTC days, ``first`` to ``last`` inclusive, named as site teams name them:
``today``, ``7d`` and ``30d`` (ending today), ``month`` (a calendar month, ``YYYY-MM``,
the current one by default) or ``custom`` (``from`` and ``to``, ``YYYY-MM-DD``). The
previous period is as many days, ending the day before ``first``. A bad name or date is a
``QueryError`` naming the field, so a request can be answered 400 with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from aggregator.reports.query_errors import QueryError

__all__ = ["MAX_DAYS", "PERIODS", "Period"]

PERIODS = ("today", "7d", "30d", "month", "custom")
MAX_DAYS = 366


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QueryError(name, f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise QueryError("month", f"{text[:40]!r} is not a month (YYYY-MM)") from None


@dataclass(frozen=True)
class Period:
    name: str
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        last = self.first - timedelta(days=1)
        return Period(self.name, last - timedelta(days=self.length - 1), last)

    def as_query(self) -> dict[str, str]:
        """The request parameters that name this period again."""
        if self.name == "month":
            return {"period": "month", "month": self.first.strftime("%Y-%m")}
        if self.name == "custom":
            return {"period": "custom", "from": str(self.first), "to": str(self.last)}
        return {"period": self.name}

    @property
    def label(self) -> str:
        if self.name == "today":
            return f"today ({self.first})"
        if self.name == "month":
            return self.first.strftime("%B %Y")
        return f"{self.first} to {self.last}"

    @classmethod
    def parse(cls, query: Mapping[str, str], today: date, oldest: date) -> Period:
        """The period ``query`` names; ``oldest`` is the first day the site keeps data for."""
        name = query.get("period", "30d")
        if name == "today":
            period = cls(name, today, today)
        elif name in ("7d", "30d"):
            period = cls(name, today - timedelta(days=int(name[:-1]) - 1), today)
        elif name == "month":
            first = _month(query["month"]) if query.get("month") else today.replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
            period = cls(name, first, min(following - timedelta(days=1), today))
            if first > today:
                raise QueryError("month", "the month has not begun")
        elif name == "custom":
            for bound in ("from", "to"):
                if not query.get(bound):
                    raise QueryError(bound, "a custom period needs from and to (YYYY-MM-DD)")
            period = cls(name, _day(query["from"], "from"), _day(query["to"], "to"))
            if period.first > period.last:
                raise QueryError("to", "to is before from")
            if period.last > today:
                raise QueryError("to", "to is in the future")
            if period.length > MAX_DAYS:
                raise QueryError("from", f"a custom period is at most {MAX_DAYS} days")
        else:
            raise QueryError("period", f"{name[:40]!r} is not one of {', '.join(PERIODS)}")
        if period.last < oldest:
            raise QueryError(
                "to" if name == "custom" else "period", f"no data is kept from before {oldest}"
            )
        return period
