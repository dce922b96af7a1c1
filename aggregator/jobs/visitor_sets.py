"""The analytics' visitor sets: each day's visitors of each row of a table, as a bitmap.

After the analytics job rolls a day up into ``visitor_days``, it numbers the day's new
visitors of the site (``visitor_numbers``: dense, from 1, kept for the visitor's later
days) and counts the day into ``row_visitors``: per table, row and number of hits (a
visitor's pageviews of a page that day), the bitmap of the numbers of the visitors who
had that many (``count_sql``). The analytics then answer distinct visitors, and what they
counted, under any filters with bitmap unions and intersections
(``aggregator.reports.visitor_sets``).

A bitmap holds numbers, not visitor keys, so erasure does not find it; it deletes the
visitor's ``visitor_days`` and ``visitor_numbers`` rows. Every run of the job then recounts
the days whose bitmaps hold a number that no longer has a visitor (``stale_days``), and so
no bitmap outlives an erasure by more than the job's period. Likewise after a sweep of rows
that landed late, and after a retention purge.
"""

from __future__ import annotations

from datetime import date

from aggregator.reports.breakdowns import DAY_TABLES, EVERYONE, entries_sql
from aggregator.store.client import Store

__all__ = ["count_sql", "number_sql", "stale_days"]

_DAY = "site = {site:String} AND day = {day:Date}"


def number_sql() -> str:
    """Number the visitors of one day of ``visitor_days`` who have no number yet, after the
    site's highest, and move the last day of those who had one to this day, if later."""
    return f"""
INSERT INTO visitor_numbers (site, visitor, visitor_key, number, last_day, expires_at)
SELECT {{site:String}}, d.visitor, d.visitor_key,
       if(known.number != 0, known.number,
          (SELECT max(number) FROM visitor_numbers WHERE site = {{site:String}})
          + toUInt32(row_number() OVER (ORDER BY known.number != 0, d.visitor))),
       {{day:Date}}, d.expires_at
FROM (SELECT visitor, any(visitor_key) AS visitor_key, max(expires_at) AS expires_at
      FROM visitor_days FINAL WHERE {_DAY} GROUP BY visitor) AS d
LEFT JOIN (SELECT visitor, max(number) AS number, max(last_day) AS last_day
           FROM visitor_numbers WHERE site = {{site:String}}
             AND visitor IN (SELECT visitor FROM visitor_days WHERE {_DAY})
           GROUP BY visitor) AS known ON d.visitor = known.visitor
WHERE known.number = 0 OR known.last_day < {{day:Date}}
"""


def count_sql(suffix: str = "") -> str:
    """The statement that counts one day of ``visitor_days`` into ``row_visitors``
    (``suffix``: ``_local``, one node's own tables, ``Store.on_each_shard``)."""
    return f"""
INSERT INTO row_visitors{suffix} (site, day, breakdown, row, hits, visitors, computed_at,
                                  expires_at)
SELECT {{site:String}}, {{day:Date}}, entry.1 AS breakdown, entry.2 AS row,
       toUInt32(entry.3) AS hits, groupBitmapState(n.number),
       toDateTime64({{computed_at:String}}, 3, 'UTC'), max(v.expires_at)
FROM (SELECT visitor, expires_at, {entries_sql(DAY_TABLES)} AS entries
      FROM visitor_days{suffix} FINAL WHERE {_DAY}) AS v
INNER JOIN (SELECT visitor, any(number) AS number FROM visitor_numbers{suffix}
            WHERE site = {{site:String}}
              AND visitor IN (SELECT visitor FROM visitor_days{suffix} WHERE {_DAY})
            GROUP BY visitor) AS n ON v.visitor = n.visitor
ARRAY JOIN v.entries AS entry
GROUP BY breakdown, row, hits
"""


def stale_days(store: Store, site: str, oldest: date) -> list[date]:
    """The days from ``oldest`` whose bitmaps hold a number without a visitor (erased,
    or past retention): to be counted again."""
    rows = store.rows(
        "SELECT DISTINCT day FROM row_visitors WHERE site = {site:String} "
        "AND breakdown = {everyone:String} AND day >= {oldest:Date} "
        "AND bitmapCardinality(bitmapAndnot(visitors, (SELECT groupBitmapState(number) "
        "  FROM visitor_numbers WHERE site = {site:String}))) > 0 ORDER BY day",
        {"site": site, "everyone": EVERYONE, "oldest": oldest},
    )
    return [day for (day,) in rows]
