"""A signal rule as data, and the sliding-window query most rules are made of.

A rule is: id, version, title, the purpose a visitor must have granted, its window,
default thresholds (a site overrides them in ``sites.signal_thresholds``), the plain
language a visitor reads on /me, and the ClickHouse query that finds it. Each query
returns one row per finding::

    visitor_key, window_start, window_end, value, evidence Array(Tuple(id, ts, detail))
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from clearsignal.purposes import Purpose

__all__ = ["EVIDENCE_LIMIT", "SignalRule", "medians", "sliding"]

EVIDENCE_LIMIT = 20


@dataclass(frozen=True)
class SignalRule:
    id: str
    version: int
    title: str
    purpose: Purpose
    window_days: int  # the span a finding covers (the job looks back over the retention)
    thresholds: dict[str, float]
    noticed: str  # what we noticed, with {count}, {first} and {last} from the evidence
    why: str  # why it matters to the site
    may_do: str  # what the site may do with it
    query: str  # ClickHouse SQL over `ev` (and `sv`), with {threshold names} filled in
    incremental: bool = True  # False: time alone can change the finding (all, hourly)
    baseline: str = ""
    """For a rule that compares a visitor with the others: SQL over ``ev`` and ``sv``
    returning (name, value, count), how many of the site's tasks of each name had each
    value. The job adds these up over all visitors, then gives ``query`` each name's
    median as ``{usual_<name>}``: so the query still reads one share of the visitors at a
    time."""

    def sql(
        self, overrides: dict[str, float] | None = None, usual: dict[str, float] | None = None
    ) -> str:
        values = self.thresholds | (overrides or {})
        values |= {f"usual_{name}": value for name, value in (usual or {}).items()}
        shown = {
            k: str(int(v)) if float(v).is_integer() else repr(float(v)) for k, v in values.items()
        }
        return self.query.format_map(_Values(shown, evidence=EVIDENCE_LIMIT))


class _Values(dict[str, object]):
    """A query's values: a baseline name without tasks (none in the data read) has no
    median, and no task of its to compare either: 0."""

    def __missing__(self, key: str) -> object:
        if key.startswith("usual_"):
            return 0
        raise KeyError(key)


def medians(counts: Iterable[tuple[str, float, int]]) -> dict[str, float]:
    """Each name's median value from (name, value, count) rows (a ``baseline``'s, a name
    possibly in several rows with the same value): the middle value, or the mean of the
    two middle ones."""
    histograms: dict[str, Counter[float]] = defaultdict(Counter)
    for name, value, count in counts:
        histograms[name][float(value)] += int(count)
    return {
        name: (
            _nth(histogram, (histogram.total() - 1) // 2) + _nth(histogram, histogram.total() // 2)
        )
        / 2
        for name, histogram in histograms.items()
    }


def _nth(histogram: Counter[float], position: int) -> float:
    """The value at ``position`` (from 0) of the histogram's values in order."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if position < seen:
            break
    return value


def sliding(occurrences: str, window_seconds: str, minimum: str, per_session: bool) -> str:
    """Findings where at least ``minimum`` occurrences fall within ``window_seconds``.

    ``occurrences`` selects (visitor_key, session, occ_ts, event_id, detail). Per session,
    the window is the session itself.
    """
    group = "visitor_key, session" if per_session else "visitor_key"
    span = "toFloat64(1e12)" if per_session else window_seconds
    return f"""
SELECT visitor_key,
       toDateTime(occ[best].2) AS window_start,
       toDateTime(arrayMax(arrayMap(o -> o.2, found))) AS window_end,
       toFloat64(counts[best]) AS value,
       arraySlice(found, 1, {{evidence}}) AS evidence
FROM (
    SELECT visitor_key, occ, counts, indexOf(counts, arrayMax(counts)) AS best,
           arrayFilter(o -> o.2 >= occ[best].2
                            AND dateDiff('second', occ[best].2, o.2) <= {span}, occ) AS found
    FROM (
        SELECT visitor_key,
               arraySort(o -> o.2, groupArray((event_id, occ_ts, detail))) AS occ,
               arrayMap(x -> arrayCount(y -> y.2 >= x.2
                            AND dateDiff('second', x.2, y.2) <= {span}, occ), occ) AS counts
        FROM ({occurrences})
        GROUP BY {group}
    )
)
WHERE value >= {minimum}
"""
