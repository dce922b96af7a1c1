"""Which findings open a case, and whose cases go when consent goes.

``open_cases``: a stored finding of a rule the site calls actionable
(``sites.response.actionable``), whose window ended within ``RECENT``, about a visitor who
is linked to a customer of the site and whose current consent grants personalization,
opens a case for the customer the visitor was last linked to. Its id is the finding's
(``FINDING_ID_SQL``), so a finding seen again never opens a second case, and while the
customer has an open case of the rule, no further one opens.

``forget_unconsented``: a visitor whose current consent no longer grants personalization
loses their cases, the cases' actions and their sealed reference: the team no longer
sees them, and nothing of them stays (erasure does the same on a full withdrawal).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aggregator.cases.book import CASE_COLUMNS, CaseBook
from aggregator.signals.rules import rule
from aggregator.signals.stored import FINDING_ID_SQL
from aggregator.store.client import Store
from clearsignal.purposes import Purpose
from clearsignal.settings import SiteSettings
from consent.queries import consented_sql

__all__ = ["CASE_TABLES", "RECENT", "forget_unconsented", "open_cases"]

RECENT = timedelta(days=7)
CASE_TABLES = ("cases", "case_actions", "customer_references")
_FINDINGS = """
    SELECT site, visitor_key, rule_id, rule_version, window_start, window_end
    FROM signals FINAL
    WHERE site = {site:String} AND rule_id IN {rules:Array(String)}
      AND window_end >= {recent:DateTime64(3, 'UTC')}
      AND window_end <= {now:DateTime64(3, 'UTC')}
      AND expires_at > {now:DateTime64(3, 'UTC')}"""
_HOLDERS = """
    SELECT site, visitor_key FROM cases WHERE site = {site:String}
    UNION ALL
    SELECT site, visitor_key FROM customer_references WHERE site = {site:String}"""


def _consented(visitors: str) -> str:
    """The visitors of ``visitors`` (a SELECT of visitor keys) whose current consent
    grants personalization now: only theirs is read, not every visitor's of the site."""
    return consented_sql(
        Purpose.PERSONALIZATION,
        f"site = {{site:String}} AND visitor_key IN (SELECT visitor_key FROM ({visitors}))",
        "{now:DateTime64(3, 'UTC')}",
    )


_CANDIDATES = f"""
WITH consented AS ({_consented(_FINDINGS)})
SELECT s.visitor_key, l.customer_key, s.rule_id, s.rule_version, s.window_start,
       s.window_end, s.case_id
FROM (
    SELECT *, {FINDING_ID_SQL} AS case_id FROM ({_FINDINGS})
    WHERE (site, visitor_key) IN consented
) AS s
INNER JOIN (
    SELECT visitor_key, argMax(customer_key, linked_at) AS customer_key
    FROM customer_links FINAL
    WHERE site = {{site:String}}
    GROUP BY visitor_key
) AS l ON l.visitor_key = s.visitor_key
WHERE s.case_id NOT IN (SELECT case_id FROM cases WHERE site = {{site:String}})
ORDER BY s.window_end, s.case_id
"""
_UNCONSENTED = f"""
WITH consented AS ({_consented(_HOLDERS)})
SELECT DISTINCT visitor_key FROM ({_HOLDERS})
WHERE (site, visitor_key) NOT IN consented
ORDER BY visitor_key
"""


def open_cases(store: Store, book: CaseBook, site: SiteSettings, now: datetime) -> int:
    """Open the cases of new actionable findings; how many opened."""
    weights = {
        rule_id: weight
        for rule_id, weight in site.response.actionable.items()
        if rule(rule_id) is not None
    }
    if not weights:
        return 0
    candidates = store.rows(
        _CANDIDATES,
        {"site": site.id, "rules": sorted(weights), "recent": now - RECENT, "now": now},
    )
    if not candidates:
        return 0
    busy = {(c.record.customer_key, c.record.rule_id) for c in book.states(site.id) if c.is_open}
    expires = int(now.timestamp()) + site.retention_days * 86_400
    rows = []
    for visitor, customer, rule_id, version, start, end, case_id in candidates:
        if (customer, rule_id) in busy:
            continue
        busy.add((customer, rule_id))
        found = [site.id, visitor, case_id, customer, rule_id, version, start, end]
        rows.append([*found, weights[rule_id], now, expires])
    if rows:
        store.insert("cases", rows, CASE_COLUMNS)
    return len(rows)


def forget_unconsented(store: Store, site: SiteSettings, now: datetime) -> int:
    """Delete the cases and references of visitors without a personalization grant; how
    many visitors."""
    keys = [str(key) for (key,) in store.rows(_UNCONSENTED, {"site": site.id, "now": now})]
    if keys:
        for table in CASE_TABLES:
            store.alter(
                table,
                "DELETE WHERE site = {site:String} AND visitor_key IN {keys:Array(String)} "
                "SETTINGS mutations_sync = 2",
                {"site": site.id, "keys": keys},
            )
    return len(keys)
