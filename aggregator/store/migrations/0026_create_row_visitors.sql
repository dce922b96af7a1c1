-- visitor_numbers: each visitor of a site's analytics numbered from 1, in the order the
-- analytics job first counted them: what row_visitors' bitmaps hold (a bitmap of dense
-- 32-bit numbers is a few bits a visitor; of 64-bit hashes it would be a container each).
-- visitor: sipHash64(visitor_key), as visitor_days; last_day: the visitor's newest day,
--   so that a shortened retention removes the number with the visitor's last day.
-- ReplacingMergeTree(last_day): a visitor seen again keeps the number, with a later day.
-- TTL expires_at: the site's retention from the last day. Erasure deletes the row (it has
--   visitor_key), and the analytics job then recounts the visitor's days without it.
-- Sharded as visitor_days: each shard counts its own rows' visitors into its own
--   row_visitors, with their numbers from its own part of this table.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS visitor_numbers
(
    site LowCardinality(String),
    visitor UInt64,
    visitor_key String,
    number UInt32,
    last_day Date,
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(last_day)
ORDER BY (site, visitor)
TTL expires_at;

-- row_visitors: per site, day, table of the analytics, row of it and how many hits (pageviews
-- of a page, clicks on a link) a visitor had there that day, the bitmap of those visitors'
-- numbers. Distinct visitors over any days and filters become bitmap unions and
-- intersections (aggregator.reports.visitor_sets), not a pass over the rows of
-- visitor_days; what a row counts under filters is the sum of hits times the size of the
-- bitmap's intersection with the visitors who match them.
-- breakdown: the table (pages, countries, ...); 'days' (row: the day) holds every visitor.
-- Kept by the analytics job with each day's visitor_days rows, on each shard from its own
-- rows: ReplacingMergeTree(computed_at), the older rows of a day deleted after the new.
-- TTL expires_at: the site's retention, as the day's rows of visitor_days.
CREATE TABLE IF NOT EXISTS row_visitors
(
    site LowCardinality(String),
    day Date,
    breakdown LowCardinality(String),
    row String,
    hits UInt32,
    visitors AggregateFunction(groupBitmap, UInt32),
    computed_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(day)
ORDER BY (site, breakdown, day, row, hits)
TTL expires_at;
