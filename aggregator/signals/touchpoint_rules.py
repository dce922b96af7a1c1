"""Rules that read what the site's own systems told (``sv``), alone or beside the browser.

``sv`` holds the server events of the site's consenting visitors (``aggregator.jobs.
signals``): ``visitor_key, event_id, ts, kind, action, attributes, amount, currency, quantity,
as_of_time``. A server event reaches a visitor only through a link the site proved and
while the visitor's grant covered it (docs/api.md), and a rule reads it only while the
visitor's current consent covers the rule's purpose, as for the browser's rules.

None is incremental: time, or the other customers (``high_effort``'s medians), can change
a finding without any event of the visitor's, so they look at every consenting visitor
once an hour (``aggregator.jobs.signals.RECHECK``), and in between, like the browser's
rules, at the visitors with new events, from the browser or the site's systems.
"""

from __future__ import annotations

from aggregator.signals.effort import EFFORT_COUNTS, HIGH_EFFORT
from aggregator.signals.rule import SignalRule, sliding
from clearsignal.purposes import Purpose

__all__ = ["OUTCOMES", "TOUCHPOINT_RULES"]

OUTCOMES = {
    "repeated_complaints": "cancellation",
    "unresolved_repeat_contact": "cancellation",
    "escalation": "cancellation",
    "purchase_decline": "order_placed",
    "downgrade": "cancellation",
    "service_failure": "cancellation",
    "churn_risk": "cancellation",
    "high_effort": "cancellation",
}
"""The later outcome the validation report relates each rule to: ``cancellation`` (a
subscription cancelled, an order cancelled or refunded) or ``order_placed``."""

_SERVER = """
SELECT visitor_key, 0 AS session, ts AS occ_ts, event_id, {detail} AS detail
FROM sv WHERE {where}
"""


def _occurrences(detail: str, where: str, minimum: str) -> str:
    """Findings where at least ``{minimum}`` server events matching ``where`` fall within
    ``{window_days}``, each shown by ``detail``."""
    occurrences = _SERVER.format(detail=detail, where=where)
    return sliding(occurrences, "{window_days} * 86400", f"{{{minimum}}}", per_session=False)


# Contacts on one topic, each window of them after a first contact; a window counts when
# no 'resolved' on that topic falls between its first and last contact.
_UNRESOLVED_REPEAT = """
SELECT visitor_key, toDateTime(best[1].2) AS window_start,
       toDateTime(best[length(best)].2) AS window_end, toFloat64(length(best)) AS value,
       arraySlice(best, 1, {evidence}) AS evidence
FROM (
    SELECT visitor_key, unresolved,
           unresolved[indexOf(arrayMap(w -> length(w), unresolved),
                              arrayMax(arrayMap(w -> length(w), unresolved)))] AS best
    FROM (
        SELECT visitor_key,
               arrayFilter(w -> length(w) >= {min_contacts}
                                AND arrayCount(r -> r >= w[1].2 AND r <= w[length(w)].2,
                                               resolutions) = 0,
                           arrayMap(x -> arrayFilter(y -> y.2 >= x.2
                                        AND dateDiff('second', x.2, y.2) <= {window_days} * 86400,
                                        contacts), contacts)) AS unresolved
        FROM (
            SELECT visitor_key, attributes['topic'] AS topic,
                   arraySort(c -> c.2, groupArrayIf(
                       (event_id, ts, concat(action, ': ', topic, ' by ', attributes['channel'])),
                       action IN ('opened', 'reopened'))) AS contacts,
                   groupArrayIf(ts, action = 'resolved') AS resolutions
            FROM sv WHERE kind = 'contact'
            GROUP BY visitor_key, topic
        )
    )
    WHERE length(unresolved) > 0
)
"""

# Orders placed in the recent window against the customer's own earlier rate, as of the
# start of the run's day (UTC): every run of a day writes the same finding.
_PURCHASE_DECLINE = """
SELECT visitor_key, toDateTime(as_of - ({recent_days} + {baseline_days}) * 86400) AS window_start,
       toDateTime(as_of) AS window_end,
       (recent / {recent_days}) / (earlier / {baseline_days}) AS value,
       arraySlice(arraySort(o -> o.2, orders), 1, {evidence}) AS evidence
FROM (
    SELECT visitor_key, any(as_of_s) AS as_of,
           countIf(t >= as_of_s - {recent_days} * 86400 AND t < as_of_s) AS recent,
           countIf(t < as_of_s - {recent_days} * 86400
                   AND t >= as_of_s - ({recent_days} + {baseline_days}) * 86400) AS earlier,
           groupArrayIf((event_id, ts, concat('order placed: ', toString(round(amount, 2)), ' ',
                                              currency)),
                        t >= as_of_s - ({recent_days} + {baseline_days}) * 86400
                        AND t < as_of_s) AS orders
    FROM (SELECT *, toUnixTimestamp(ts) AS t,
                 toUnixTimestamp(toStartOfDay(as_of_time)) AS as_of_s
          FROM sv WHERE kind = 'order' AND action = 'placed')
    GROUP BY visitor_key
)
WHERE earlier >= {min_earlier_orders}
  AND (recent / {recent_days}) * {drop_factor} <= earlier / {baseline_days}
"""

# SLA breaches weigh as much as the threshold (one is enough), handovers their count: the
# heaviest window of the customer's weighted occurrences.
_SERVICE_FAILURE = """
SELECT visitor_key, toDateTime(occ[best].2) AS window_start,
       toDateTime(arrayMax(arrayMap(o -> o.2, found))) AS window_end,
       toFloat64(length(found)) AS value,
       arraySlice(arrayMap(o -> (o.1, o.2, o.3), found), 1, {evidence}) AS evidence
FROM (
    SELECT visitor_key, occ, weights, indexOf(weights, arrayMax(weights)) AS best,
           arrayFilter(o -> o.2 >= occ[best].2
                            AND dateDiff('second', occ[best].2, o.2) <= {window_days} * 86400,
                       occ) AS found
    FROM (
        SELECT visitor_key, arraySort(o -> o.2, groupArray((event_id, ts, detail, weight))) AS occ,
               arrayMap(x -> arraySum(y -> if(y.2 >= x.2
                            AND dateDiff('second', x.2, y.2) <= {window_days} * 86400, y.4, 0),
                            occ), occ) AS weights
        FROM (
            SELECT visitor_key, event_id, ts,
                   if(kind = 'sla_breach',
                      concat('missed ', attributes['commitment'], ' by ',
                             toString(round(amount)), ' min'),
                      concat('handed over ', toString(quantity), ' time(s)')) AS detail,
                   toUInt32(if(kind = 'sla_breach', {min_handovers}, quantity)) AS weight
            FROM sv WHERE kind IN ('sla_breach', 'handover')
        )
        GROUP BY visitor_key
    )
)
WHERE arrayMax(weights) >= {min_handovers}
"""

# Both parts over the same four weeks before the run's day: visits (sessions of the
# browser) fell, and contacts and complaints (the site's systems) rose.
_CHURN_RISK = """
SELECT visits.visitor_key AS visitor_key, toDateTime(visits.as_of - 28 * 86400) AS window_start,
       toDateTime(visits.as_of) AS window_end, toFloat64(contacts.recent) AS value,
       arraySort(e -> e.2, arrayConcat(arraySlice(arraySort(c -> c.2, contacts.found), 1, 10),
                                       arraySlice(arraySort(v -> v.2, visits.found), 1, 10)))
           AS evidence
FROM (
    SELECT visitor_key, any(as_of_s) AS as_of,
           uniqExactIf(session, starts >= as_of_s - 14 * 86400 AND starts < as_of_s) AS recent,
           uniqExactIf(session, starts < as_of_s - 14 * 86400
                                AND starts >= as_of_s - 28 * 86400) AS earlier,
           groupArrayIf((first_id, starts_at, 'visit'), starts >= as_of_s - 28 * 86400
                                                        AND starts < as_of_s) AS found
    FROM (
        SELECT visitor_key, session, min(ts) AS starts_at, toUnixTimestamp(min(ts)) AS starts,
               argMin(event_id, ts) AS first_id,
               any(toUnixTimestamp(toStartOfDay(as_of_time))) AS as_of_s
        FROM ev GROUP BY visitor_key, session
    )
    GROUP BY visitor_key
) AS visits
INNER JOIN (
    SELECT visitor_key,
           countIf(t >= as_of_s - 14 * 86400 AND t < as_of_s) AS recent,
           countIf(t < as_of_s - 14 * 86400 AND t >= as_of_s - 28 * 86400) AS earlier,
           groupArrayIf((event_id, ts, detail), t >= as_of_s - 28 * 86400 AND t < as_of_s)
               AS found
    FROM (
        SELECT *, toUnixTimestamp(ts) AS t, toUnixTimestamp(toStartOfDay(as_of_time)) AS as_of_s,
               if(kind = 'complaint', concat('complaint: ', attributes['category']),
                  concat('contact: ', attributes['topic'])) AS detail
        FROM sv
        WHERE (kind = 'contact' AND action IN ('opened', 'reopened', 'escalated'))
           OR (kind = 'complaint' AND action = 'filed')
    )
    GROUP BY visitor_key
) AS contacts ON contacts.visitor_key = visits.visitor_key
WHERE visits.earlier >= {min_earlier_visits} AND visits.recent * {drop_factor} <= visits.earlier
  AND contacts.recent >= {min_recent_contacts} AND contacts.recent > contacts.earlier
"""


TOUCHPOINT_RULES: tuple[SignalRule, ...] = (
    SignalRule(
        id="repeated_complaints",
        version=1,
        title="Repeated complaints",
        purpose=Purpose.ANALYTICS,
        window_days=30,
        thresholds={"min_complaints": 2, "window_days": 30},
        noticed="You made {count} complaints between {first} and {last}.",
        why="A second complaint within a month sharply raises the chance a customer leaves.",
        may_do="Review what the complaints were about and follow up personally.",
        query=_occurrences(
            "concat('complaint: ', attributes['category'])",
            "kind = 'complaint' AND action = 'filed'",
            "min_complaints",
        ),
        incremental=False,
    ),
    SignalRule(
        id="unresolved_repeat_contact",
        version=1,
        title="Repeated contact without resolution",
        purpose=Purpose.ANALYTICS,
        window_days=14,
        thresholds={"min_contacts": 2, "window_days": 14},
        noticed="You contacted us {count} times about the same topic between {first} and "
        "{last}, with no resolution in between.",
        why="Having to ask again about the same problem means the first contact did not solve it.",
        may_do="Make sure the open question is answered, by one person who follows it up.",
        query=_UNRESOLVED_REPEAT,
        incremental=False,
    ),
    SignalRule(
        id="escalation",
        version=1,
        title="Escalation",
        purpose=Purpose.ANALYTICS,
        window_days=30,
        thresholds={"min_escalations": 1, "window_days": 30},
        noticed="Your request was escalated {count} time(s), on {first}.",
        why="An escalation means the usual way of helping did not work.",
        may_do="Check that the escalated request was resolved and tell you how.",
        query=_occurrences(
            "concat('escalated: ', attributes['topic'])",
            "kind = 'contact' AND action = 'escalated'",
            "min_escalations",
        ),
        incremental=False,
    ),
    SignalRule(
        id="purchase_decline",
        version=1,
        title="Purchases declining",
        purpose=Purpose.ANALYTICS,
        window_days=165,
        thresholds={
            "recent_days": 45,
            "baseline_days": 120,
            "min_earlier_orders": 3,
            "drop_factor": 3,
        },
        noticed="You ordered far less often lately than before (orders from {first} to {last}).",
        why="Buying much less often than one's own habit can mean a need is no longer met.",
        may_do="Ask whether something changed; it must not pressure you.",
        query=_PURCHASE_DECLINE,
        incremental=False,
    ),
    SignalRule(
        id="downgrade",
        version=1,
        title="Downgrade",
        purpose=Purpose.ANALYTICS,
        window_days=30,
        thresholds={"min_downgrades": 1, "window_days": 30},
        noticed="You moved to a smaller plan on {first}.",
        why="A downgrade often comes before a cancellation, or shows a plan does not fit.",
        may_do="Ask what the plan lacked or cost too much for.",
        query=_occurrences(
            "concat('downgraded to ', attributes['plan'])",
            "kind = 'subscription' AND action = 'downgraded'",
            "min_downgrades",
        ),
        incremental=False,
    ),
    SignalRule(
        id="service_failure",
        version=1,
        title="Service failure",
        purpose=Purpose.ANALYTICS,
        window_days=30,
        thresholds={"min_handovers": 3, "window_days": 30},
        noticed="We missed a service commitment or passed your request on repeatedly "
        "({count} time(s) between {first} and {last}).",
        why="Missed commitments and being passed from team to team wear trust down.",
        may_do="Apologise, fix the cause, and keep one person on your request.",
        query=_SERVICE_FAILURE,
        incremental=False,
    ),
    SignalRule(
        id="churn_risk",
        version=1,
        title="Churn risk",
        purpose=Purpose.ANALYTICS,
        window_days=28,
        thresholds={
            "min_earlier_visits": 3,
            "drop_factor": 2,
            "min_recent_contacts": 2,
        },
        noticed="In the last two weeks you visited far less than in the two weeks before, "
        "while you contacted us more ({count} contacts; visits and contacts from {first} to "
        "{last}).",
        why="Fewer visits together with more contacts is how customers often look before "
        "they leave: something is not working for them.",
        may_do="Reach out to solve the open problem; it must not pressure you to stay.",
        query=_CHURN_RISK,
        incremental=False,
    ),
    SignalRule(
        id="high_effort",
        version=2,
        title="High effort",
        purpose=Purpose.ANALYTICS,
        window_days=30,
        thresholds={"min_effort": 4, "factor": 2},
        noticed="Something you set out to do took {count} steps from {first} to {last} (for a "
        "support request: contacts, escalations and handovers; for a checkout: steps, going "
        "back and errors), far more than it usually does.",
        why="The more effort a customer must spend to get something done, the less likely "
        "they stay.",
        may_do="Look at where the journey stalled and shorten it.",
        query=HIGH_EFFORT,
        baseline=EFFORT_COUNTS,
        incremental=False,
    ),
)
