"""A stored signal: the one reader of the ``signals`` table and the one way it is written
for people.

``read_signals`` reads a visitor's findings; ``StoredSignal`` is one of them with its rule
(``None`` for a rule this version no longer has); ``signal_summary`` is what a page may
show (title, window, why it matters, what the site may do) and ``signal_document`` what
the visitor's own data holds: the summary plus what was noticed, in words and as a
template with its inputs, the evidence and the dates. Times are written with
``clearsignal.clock.wire_time``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aggregator.signals.rules import SignalRule, rule
from aggregator.store.client import Store
from clearsignal.clock import wire_time

__all__ = [
    "FINDING_ID_SQL",
    "SIGNAL_COLUMNS",
    "Evidence",
    "StoredSignal",
    "read_signals",
    "signal_document",
    "signal_summary",
]

FINDING_ID_SQL = (
    "lower(hex(substring(SHA256(concat(site, '\\n', visitor_key, '\\n', rule_id, '\\n', "
    "toString(window_start))), 1, 16)))"
)
"""A finding's id, from its key (site, visitor key, rule, window start): a finding
recomputed later keeps it. A webhook delivery's id and a case's id are this id."""

SIGNAL_COLUMNS = (
    "site, visitor_key, rule_id, rule_version, window_start, window_end, value, evidence, "
    "computed_at, expires_at"
)


@dataclass(frozen=True)
class Evidence:
    """One event that made a finding: its id, time and what it was (a path, a field...)."""

    event_id: str
    ts: datetime
    detail: str


@dataclass(frozen=True)
class StoredSignal:
    site: str
    visitor_key: str
    rule_id: str
    rule_version: int
    window_start: datetime
    window_end: datetime
    value: float
    evidence: tuple[Evidence, ...]
    computed_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredSignal:
        """A row of ``SIGNAL_COLUMNS``, as ``Store.dicts`` returns it."""
        # Named tuples come back as dicts from some client versions, as tuples from others.
        evidence = tuple(
            Evidence(str(item["event_id"]), item["ts"], str(item["detail"]))
            if isinstance(item, Mapping)
            else Evidence(str(item[0]), item[1], str(item[2]))
            for item in row["evidence"]
        )
        return cls(
            str(row["site"]), str(row["visitor_key"]), str(row["rule_id"]),
            int(row["rule_version"]), row["window_start"], row["window_end"],
            float(row["value"]), evidence, row["computed_at"], row["expires_at"],
        )  # fmt: skip

    @property
    def rule(self) -> SignalRule | None:
        return rule(self.rule_id)

    @property
    def title(self) -> str:
        found = self.rule
        return found.title if found else self.rule_id


def read_signals(
    store: Store, site: str, visitor_key: str, limit: int | None = None
) -> list[StoredSignal]:
    """The visitor's findings on ``site``, newest window first."""
    rows = store.dicts(
        f"SELECT {SIGNAL_COLUMNS} FROM signals FINAL "
        "WHERE site = {site:String} AND visitor_key = {key:String} "
        "ORDER BY window_end DESC, rule_id" + ("" if limit is None else " LIMIT {limit:UInt32}"),
        {"site": site, "key": visitor_key} | ({} if limit is None else {"limit": limit}),
    )
    return [StoredSignal.from_row(row) for row in rows]


def signal_summary(signal: StoredSignal) -> dict[str, Any]:
    """What a page may show of a finding."""
    found = signal.rule
    return {
        "rule_id": signal.rule_id,
        "rule_version": signal.rule_version,
        "title": signal.title,
        "window_start": wire_time(signal.window_start),
        "window_end": wire_time(signal.window_end),
        "value": signal.value,
        "why": found.why if found else "",
        "may_do": found.may_do if found else "",
    }


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _in_words(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def _span(signal: StoredSignal) -> Sequence[datetime]:
    return [e.ts for e in signal.evidence] or [signal.window_start, signal.window_end]


def signal_document(signal: StoredSignal) -> dict[str, Any]:
    """A finding as the visitor's own data holds it: explained, with its evidence."""
    found = signal.rule
    times = _span(signal)
    first, last = min(times), max(times)
    inputs = {"count": _number(signal.value), "first": _in_words(first), "last": _in_words(last)}
    return signal_summary(signal) | {
        "noticed": found.noticed.format(**inputs) if found else "",
        "noticed_template": found.noticed if found else "",
        "template_inputs": inputs | {"first": wire_time(first), "last": wire_time(last)},
        "evidence": [
            {"event_id": e.event_id, "ts": wire_time(e.ts), "detail": e.detail}
            for e in signal.evidence
        ],
        "computed_at": wire_time(signal.computed_at),
        "delete_on": wire_time(signal.expires_at),
    }
