-- site_summaries: what a site's dashboard shows, per day: visitors, sessions, pageviews,
-- signal prevalence per rule, funnel steps reached, frustration hot spots. Aggregates only;
-- no visitor_key. A group of fewer than the site's k visitors, or one that could be
-- derived from published numbers by subtraction, is stored with suppressed = 1 and
-- value = visitors = 0: the small number is never written.
-- ReplacingMergeTree(computed_at) ORDER BY (site, day, metric, dimension): recomputing a
--   day replaces its rows (a group that vanished is rewritten as suppressed). computed_at
--   is the newest ingested event the computation saw, so a rerun on the same data writes
--   the same rows. Readers use FINAL.
-- TTL: two years of daily aggregates for trends.
CREATE TABLE IF NOT EXISTS site_summaries
(
    site LowCardinality(String),
    day Date,
    metric LowCardinality(String),
    dimension String,
    value Float64,
    visitors UInt64,
    suppressed Bool,
    computed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, metric, dimension)
TTL day + INTERVAL 2 YEAR;
