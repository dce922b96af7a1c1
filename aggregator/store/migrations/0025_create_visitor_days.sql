-- visitor_days: one row per visitor and day, what the analytics count
-- (aggregator.reports.analytics): a site's 10 M events of a month are some 800 k rows here.
-- Kept by the analytics job (aggregator.jobs.analytics), which recomputes the days with
-- new events: it inserts each day's rows again, then deletes the older ones.
-- visitor: sipHash64(visitor_key), 8 bytes to count distinct visitors on (a collision
--   among a million visitors has odds of 3 in 100 million);
-- each table's rows as two arrays, what was counted and how many (pageviews of a page,
--   events on a device, clicks on a link); what was counted as LowCardinality, so that
--   grouping by it hashes small numbers, not strings (40 % faster, bench/dashboard.py);
-- engaged_ms and engagements: engaged time and the engagement events it came from.
-- ReplacingMergeTree(computed_at): between the insert and the delete a day's rows are
--   there twice, the same visitor twice: distinct counts do not change.
-- TTL expires_at: the site's retention, as its events.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS visitor_days
(
    site LowCardinality(String),
    day Date,
    visitor UInt64,
    visitor_key String,
    pageviews UInt32,
    pages Array(LowCardinality(String)),
    page_views Array(UInt32),
    sources Array(LowCardinality(String)),
    source_views Array(UInt32),
    utm_sources Array(LowCardinality(String)),
    utm_source_views Array(UInt32),
    utm_mediums Array(LowCardinality(String)),
    utm_medium_views Array(UInt32),
    utm_campaigns Array(LowCardinality(String)),
    utm_campaign_views Array(UInt32),
    devices Array(LowCardinality(String)),
    device_events Array(UInt32),
    browsers Array(LowCardinality(String)),
    browser_events Array(UInt32),
    systems Array(LowCardinality(String)),
    system_events Array(UInt32),
    countries Array(LowCardinality(String)),
    country_events Array(UInt32),
    outbound Array(LowCardinality(String)),
    outbound_clicks Array(UInt32),
    downloads Array(LowCardinality(String)),
    download_clicks Array(UInt32),
    goals Array(LowCardinality(String)),
    goal_events Array(UInt32),
    scroll Array(LowCardinality(String)),
    scroll_pages Array(UInt32),
    engaged_ms UInt64,
    engagements UInt32,
    computed_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, visitor)
TTL expires_at;
