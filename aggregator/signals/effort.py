"""Customer effort: the tasks a customer performs and the steps each one took.

Two tasks, each read one way by both the ``high_effort`` rule and the dashboard's effort
distribution (``aggregator.jobs.summaries``):

- a **support journey**: one ticket of the site's help desk (server events). Its effort
  counts the ticket's contacts, escalations, reopenings, complaints and SLA breaches, and
  its handovers by their count; resolutions are not effort.
- a **checkout**: in a browser session, the steps of the site's funnel
  (``SiteSettings.funnel``; ``funnel_step`` is a step's place in it, 0 for any other
  event) from the first one to the funnel's last step, or to the end of the session when
  the last step is not reached; a step after a finished checkout begins the next. Its
  effort is the funnel steps taken (a step taken again counts again), plus one per
  backtrack (a step earlier in the funnel than the one before it), plus one per error on
  the way (a rage or dead click from its first step to its last step, or to the end of the
  session when it was not finished). ``reached`` is the number of distinct steps taken: a
  checkout that went straight through has an effort of exactly ``reached``.

``high_effort`` flags a task whose effort is at least ``min_effort`` and ``factor`` times
the site's median for that task; a checkout must also take ``factor`` times the steps it
reached, so going straight through a long funnel is never high effort.
"""

from __future__ import annotations

__all__ = [
    "CHECKOUT",
    "EFFORT_BUCKET",
    "EFFORT_COUNTS",
    "FUNNEL_STEP",
    "HIGH_EFFORT",
    "SUPPORT_JOURNEY",
    "TASKS",
    "checkout_journeys",
    "support_journeys",
]

CHECKOUT, SUPPORT_JOURNEY = "checkout", "support_journey"
TASKS = (CHECKOUT, SUPPORT_JOURNEY)
"""The tasks, as the summaries name them (``effort`` rows: ``<task> <bucket>``)."""

FUNNEL_STEP = (
    "if(type = 'step', indexOf({funnel:Array(String)}, name), 0) AS funnel_step, "
    "funnel_step > 0 AND funnel_step = length({funnel:Array(String)}) AS funnel_end"
)
"""An event's ``funnel_step``: a step event's place in the site's funnel (the query
parameter ``funnel``, ``SiteSettings.funnel``), from 1, 0 for any other event; and
``funnel_end``: it is the funnel's last step (the purchase, in the demo shop)."""

EFFORT_BUCKET = (
    "multiIf(effort <= 3, toString(effort), effort <= 5, '4-5', effort <= 9, '6-9', '10+')"
)
"""The dashboard's bucket of a task's effort: 1, 2, 3, 4-5, 6-9, 10+."""


def support_journeys(source: str, person: str) -> str:
    """One row per support journey (a person's ticket) in ``source`` (server events):
    ``person``, ticket, started, ended, effort, steps (evidence tuples)."""
    return f"""
    SELECT {person}, attributes['ticket'] AS ticket, min(ts) AS started, max(ts) AS ended,
           sum(if(kind = 'handover', quantity, 1)) AS effort,
           arraySort(s -> s.2, groupArray((event_id, ts,
                     concat(kind, ' ', action, if(kind = 'handover',
                            concat(' ×', toString(quantity)), ''))))) AS steps
    FROM {source}
    WHERE attributes['ticket'] != ''
      AND kind IN ('contact', 'handover', 'sla_breach', 'complaint')
      AND NOT (kind = 'contact' AND action = 'resolved')
    GROUP BY {person}, ticket"""


def checkout_journeys(source: str, person: str) -> str:
    """One row per checkout in ``source`` (sessionised browser events with
    ``funnel_step`` and ``funnel_end``): ``person``, session, checkout (its number in the
    session), started, ended, reached, effort, steps (evidence tuples: each step, "back to"
    a step, each error)."""
    return f"""
    SELECT {person}, session, checkout, taken[1].2 AS started,
           arrayMax(arrayMap(s -> s.2, steps)) AS ended,
           length(arrayDistinct(arrayMap(t -> t.3, taken))) AS reached,
           toUInt64(length(taken) + arrayCount((t, p) -> t.3 < p, taken, before)
                    + length(errors)) AS effort,
           arraySort(s -> s.2, arrayConcat(
               arrayMap((t, p) -> (t.1, t.2, concat(if(t.3 < p, 'back to step ', 'step '), t.4)),
                        taken, before),
               errors)) AS steps
    FROM (
        SELECT *, arrayPushFront(arrayPopBack(arrayMap(t -> t.3, taken)), 0) AS before,
               arrayFilter(e -> e.2 >= taken[1].2
                                AND (NOT taken[length(taken)].5 OR e.2 <= taken[length(taken)].2),
                           trouble) AS errors
        FROM (
            SELECT {person}, session, checkout, trouble,
                   arrayFilter((t, n) -> n = checkout, all_taken, numbers) AS taken
            FROM (
                -- A step's checkout: how many checkouts ended (at the funnel's last step)
                -- before it.
                SELECT {person}, session, all_taken, trouble,
                       arrayMap((t, done) -> done - t.5, all_taken,
                                arrayCumSum(arrayMap(t -> toUInt64(t.5), all_taken))) AS numbers
                FROM (
                    SELECT {person}, session,
                           arraySort(t -> (t.2, t.1), groupArrayIf(
                               (event_id, ts, funnel_step, name, funnel_end),
                               funnel_step > 0)) AS all_taken,
                           arraySort(e -> (e.2, e.1), groupArrayIf(
                               (event_id, ts, concat(replaceOne(type, '_', ' '), ' on ',
                                                     element['sel'])),
                               type IN ('rage_click', 'dead_click'))) AS trouble
                    FROM {source}
                    GROUP BY {person}, session
                    HAVING length(all_taken) > 0
                )
            )
            ARRAY JOIN arrayDistinct(numbers) AS checkout
        )
    )"""


EFFORT_COUNTS = f"""
SELECT '{SUPPORT_JOURNEY}', toFloat64(effort), count()
FROM ({support_journeys("sv", "visitor_key")}) GROUP BY effort
UNION ALL
SELECT '{CHECKOUT}', toFloat64(effort), count()
FROM ({checkout_journeys("ev", "visitor_key")}) GROUP BY effort
"""
"""The high_effort rule's baseline: how many support journeys and checkouts took each
effort, of the visitors whose consent covers the rule (on a cluster, of each shard's)."""

HIGH_EFFORT = f"""
SELECT visitor_key, toDateTime(started) AS window_start, toDateTime(ended) AS window_end,
       toFloat64(effort) AS value, arraySlice(steps, 1, {{evidence}}) AS evidence
FROM ({support_journeys("sv", "visitor_key")})
WHERE effort >= {{min_effort}} AND effort >= {{factor}} * {{usual_{SUPPORT_JOURNEY}}}
UNION ALL
SELECT visitor_key, toDateTime(started) AS window_start, toDateTime(ended) AS window_end,
       toFloat64(effort) AS value, arraySlice(steps, 1, {{evidence}}) AS evidence
FROM ({checkout_journeys("ev", "visitor_key")})
WHERE effort >= {{min_effort}}
  AND effort >= {{factor}} * greatest(toFloat64(reached), {{usual_{CHECKOUT}}})
"""
"""The high_effort rule's query: support journeys and checkouts far above the site's
median for their task (``usual_<task>``, from ``EFFORT_COUNTS``)."""
