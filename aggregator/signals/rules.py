"""Signal rules: versioned, declarative hypotheses about what visitors' behaviour means.

A rule is data: id, version, title, the purpose a visitor must have granted, its window,
default thresholds (a site overrides them in ``sites.signal_thresholds``), the plain
language a visitor reads on /me, and the ClickHouse query that finds it. Queries read
``ev``: the visitor's identified events split into sessions at 30 minutes of inactivity,
with page-kind flags (``is_pricing``, ``is_help``, ...) from the site's URL patterns
(``aggregator.jobs.signals`` builds it). Each query returns one row per finding::

    visitor_key, window_start, window_end, value, evidence Array(Tuple(id, ts, detail))

All counting happens in ClickHouse (window functions and array functions over a
visitor's occurrences); Python only fills in thresholds. Changing a rule's meaning means
a new version: stored signals keep the version that found them.
"""

from __future__ import annotations

from aggregator.signals.rule import SignalRule, sliding
from aggregator.signals.touchpoint_rules import TOUCHPOINT_RULES
from clearsignal.purposes import Purpose

__all__ = ["BROWSER_RULES", "RULES", "SignalRule", "rule"]

_VISITS = """
SELECT visitor_key, session, min(ts) AS occ_ts, argMin(event_id, ts) AS event_id,
       argMin(path, ts) AS detail
FROM ev WHERE type = 'pageview' AND {flag}
GROUP BY visitor_key, session
"""

_EVENTS = """
SELECT visitor_key, session, ts AS occ_ts, event_id, {detail} AS detail
FROM ev WHERE type = '{type}'
"""

_QUICK_BACKS = """
SELECT visitor_key, session, next_ts AS occ_ts, next_id AS event_id,
       concat(path, ' → ', next_path, ' → ', path) AS detail
FROM (
    SELECT visitor_key, session, path, ts,
           leadInFrame(path, 1) OVER w AS next_path, leadInFrame(ts, 1) OVER w AS next_ts,
           leadInFrame(event_id, 1) OVER w AS next_id,
           leadInFrame(path, 2) OVER w AS back_path, leadInFrame(ts, 2) OVER w AS back_ts
    FROM ev WHERE type = 'pageview'
    WINDOW w AS (PARTITION BY visitor_key, session ORDER BY ts, event_id
                 ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING)
)
WHERE back_path = path AND next_path != path AND next_path != ''
  AND dateDiff('millisecond', next_ts, back_ts) BETWEEN 0 AND {max_seconds} * 1000
"""

_PRE_PURCHASE = """
SELECT visitor_key, toDateTime(checkouts[best]) - INTERVAL {window_days} DAY AS window_start,
       toDateTime(checkouts[best]) AS window_end, toFloat64(counts[best]) AS value,
       arraySlice(arrayFilter(h -> h.2 < checkouts[best]
                    AND dateDiff('second', h.2, checkouts[best]) <= {window_days} * 86400,
                  helps), 1, {evidence}) AS evidence
FROM (
    SELECT visitor_key, helps, checkouts, counts, indexOf(counts, arrayMax(counts)) AS best
    FROM (
        SELECT visitor_key,
               arraySort(h -> h.2, groupArrayIf((event_id, ts, path),
                         type = 'pageview' AND is_help)) AS helps,
               arraySort(groupArrayIf(ts, type = 'pageview' AND is_checkout)) AS checkouts,
               arrayMap(c -> arrayCount(h -> h.2 < c
                        AND dateDiff('second', h.2, c) <= {window_days} * 86400, helps),
                        checkouts) AS counts
        FROM ev GROUP BY visitor_key
        HAVING length(checkouts) > 0
    )
)
WHERE value >= {min_help_views}
"""

_SHIPPING_SHOCK = """
SELECT visitor_key, toDateTime(shipping_at) AS window_start, toDateTime(ended_at) AS window_end,
       toFloat64(dateDiff('second', shipping_at, ended_at)) AS value,
       arraySlice(steps, 1, {evidence}) AS evidence
FROM (
    SELECT visitor_key, session,
           minIf(ts, is_shipping_step) AS first_shipping_at,
           maxIf(ts, is_shipping_step) AS shipping_at,
           max(ts) AS ended_at,
           groupArrayIf(ts, is_purchase_step) AS purchases_at,
           arraySort(s -> s.2, groupArrayIf((event_id, ts, if(type = 'step', name, path)),
                     is_shipping_step OR is_checkout)) AS steps
    FROM (
        SELECT *, (type = 'step' AND name = 'shipping')
                  OR (type = 'pageview' AND is_shipping) AS is_shipping_step,
                  (type = 'step' AND name = 'purchase')
                  OR (type = 'pageview' AND is_purchase) AS is_purchase_step
        FROM ev
    )
    GROUP BY visitor_key, session
    HAVING countIf(is_shipping_step) > 0
)
WHERE arrayCount(p -> p >= first_shipping_at, purchases_at) = 0
  AND dateDiff('second', shipping_at, ended_at) <= {max_seconds_after}
"""

# Declining activity is judged as of the start of the day (UTC) of the run, so every run
# on one day writes the same finding (same window), whatever the time of the run.
_DECLINING = """
SELECT visitor_key, toDateTime(as_of - 28 * 86400) AS window_start, toDateTime(as_of) AS window_end,
       toFloat64(recent) / greatest(earlier, 1) AS value,
       arraySlice(arraySort(s -> s.2, starts), 1, {evidence}) AS evidence
FROM (
    SELECT visitor_key, any(as_of_s) AS as_of,
           uniqExactIf(session, toUnixTimestamp(starts_at) >= as_of_s - 14 * 86400
                                AND toUnixTimestamp(starts_at) <= as_of_s) AS recent,
           uniqExactIf(session, toUnixTimestamp(starts_at) < as_of_s - 14 * 86400
                                AND toUnixTimestamp(starts_at) >= as_of_s - 28 * 86400) AS earlier,
           groupArray((first_id, starts_at, 'session started')) AS starts
    FROM (
        SELECT visitor_key, session, min(ts) AS starts_at, argMin(event_id, ts) AS first_id,
               any(toUnixTimestamp(toStartOfDay(as_of_time))) AS as_of_s
        FROM ev GROUP BY visitor_key, session
    )
    GROUP BY visitor_key
)
WHERE earlier >= {min_earlier_sessions} AND recent * {drop_factor} <= earlier
"""

BROWSER_RULES: tuple[SignalRule, ...] = (
    SignalRule(
        id="price_uncertainty",
        version=1,
        title="Price uncertainty",
        purpose=Purpose.ANALYTICS,
        window_days=7,
        thresholds={"min_visits": 3, "window_days": 7},
        noticed="You opened the pricing page on {count} visits between {first} and {last}.",
        why="Coming back to prices several times often means the price or what it includes "
        "is not clear yet.",
        may_do="Make prices and what they include clearer; it may offer a comparison or help.",
        query=sliding(
            _VISITS.format(flag="is_pricing"),
            "{window_days} * 86400",
            "{min_visits}",
            per_session=False,
        ),
    ),
    SignalRule(
        id="shipping_cost_shock",
        version=1,
        title="Shipping-cost shock",
        purpose=Purpose.ANALYTICS,
        window_days=1,
        thresholds={"max_seconds_after": 120},
        noticed="You left checkout {count} seconds after the shipping costs were shown, on "
        "{first}.",
        why="Leaving right after shipping costs appear usually means they came as a surprise.",
        may_do="Show shipping costs earlier, before checkout.",
        query=_SHIPPING_SHOCK,
    ),
    SignalRule(
        id="pre_purchase_uncertainty",
        version=1,
        title="Pre-purchase uncertainty",
        purpose=Purpose.ANALYTICS,
        window_days=8,
        thresholds={"min_help_views": 3, "window_days": 7},
        noticed="You read the help or FAQ pages {count} times in the week before checkout, "
        "between {first} and {last}.",
        why="Many help visits before buying suggest a question the product pages leave open.",
        may_do="Answer the common questions where products are described.",
        query=_PRE_PURCHASE,
    ),
    SignalRule(
        id="rage_clicks",
        version=1,
        title="Frustration: rage clicks",
        purpose=Purpose.ANALYTICS,
        window_days=1,
        thresholds={"min_rage_clicks": 2},
        noticed="You clicked repeatedly on something that did not respond, {count} times in "
        "one visit (from {first} to {last}).",
        why="Repeated fast clicks show an element that looks clickable but does not work.",
        may_do="Fix or clarify the element that was clicked.",
        query=sliding(
            _EVENTS.format(type="rage_click", detail="element['sel']"),
            "0",
            "{min_rage_clicks}",
            per_session=True,
        ),
    ),
    SignalRule(
        id="dead_clicks",
        version=1,
        title="Frustration: dead clicks",
        purpose=Purpose.ANALYTICS,
        window_days=1,
        thresholds={"min_dead_clicks": 3},
        noticed="{count} of your clicks in one visit changed nothing on the page (from {first} "
        "to {last}).",
        why="Clicks that do nothing point to confusing or broken page elements.",
        may_do="Make those elements work or stop looking clickable.",
        query=sliding(
            _EVENTS.format(type="dead_click", detail="element['sel']"),
            "0",
            "{min_dead_clicks}",
            per_session=True,
        ),
    ),
    SignalRule(
        id="form_abandonment",
        version=1,
        title="Frustration: form abandonment",
        purpose=Purpose.ANALYTICS,
        window_days=7,
        thresholds={"min_abandons": 1, "window_days": 7},
        noticed="You started filling in a form and left it {count} time(s), on {first}. We "
        "keep only the names of the fields, never what you typed.",
        why="Abandoned forms show where a form asks too much or is unclear.",
        may_do="Shorten or clarify the form.",
        query=sliding(
            _EVENTS.format(
                type="form_abandon", detail="concat(props['form'], ': ', props['fields'])"
            ),
            "{window_days} * 86400",
            "{min_abandons}",
            per_session=False,
        ),
    ),
    SignalRule(
        id="repeated_contact",
        version=1,
        title="Repeated contact",
        purpose=Purpose.ANALYTICS,
        window_days=30,
        thresholds={"min_visits": 2, "window_days": 30},
        noticed="You visited the contact pages on {count} visits between {first} and {last}.",
        why="Coming back to contact the site suggests a question or problem still open.",
        may_do="Check whether your question was answered; it may offer direct help.",
        query=sliding(
            _VISITS.format(flag="is_contact"),
            "{window_days} * 86400",
            "{min_visits}",
            per_session=False,
        ),
    ),
    SignalRule(
        id="declining_activity",
        version=1,
        title="Declining activity",
        purpose=Purpose.ANALYTICS,
        window_days=28,
        thresholds={"min_earlier_sessions": 4, "drop_factor": 4},
        noticed="You visited far less in the last two weeks than in the two weeks before "
        "(visits from {first} to {last}).",
        why="A sharp drop in visits can mean the site no longer meets a need.",
        may_do="Ask whether something is missing; it must not pressure you.",
        query=_DECLINING,
        incremental=False,
    ),
    SignalRule(
        id="quick_back",
        version=1,
        title="Quick back",
        purpose=Purpose.ANALYTICS,
        window_days=7,
        thresholds={"min_quick_backs": 2, "max_seconds": 10, "window_days": 7},
        noticed="You went straight back from a page {count} times between {first} and {last}.",
        why="Returning within seconds means the page was not what the link promised.",
        may_do="Make links say where they lead.",
        query=sliding(
            _QUICK_BACKS, "{window_days} * 86400", "{min_quick_backs}", per_session=False
        ),
    ),
)


RULES: tuple[SignalRule, ...] = BROWSER_RULES + TOUCHPOINT_RULES
"""Every rule: the browser's, then those that read the site's own systems too."""


def rule(rule_id: str) -> SignalRule | None:
    return next((r for r in RULES if r.id == rule_id), None)
