-- events: one row per accepted behavioural event. Never a raw IP, user agent or browser id:
-- visitor_key is HMAC-SHA256(site key, browser id) under analytics consent, or the daily
-- keyed hash of the measurement purpose otherwise (identity says which).
--
-- ReplacingMergeTree(ingested_at): a replayed spool batch or a browser retry carries the
--   same event_id, so duplicates collapse to one row; readers use FINAL.
-- ORDER BY (site, visitor_key, ts, event_id): every read is per site, and per visitor for
--   signals, the visitor's own page and erasure.
-- PARTITION BY month: merges and FINAL stay within a month; old months drop cheaply.
-- TTL expires_at: each site's retention, fixed per row at ingest.
-- non_replicated_deduplication_window: a spool batch re-sent after a crash, with the same
--   insert_deduplication_token, is ignored by the server at insert time.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS events
(
    site LowCardinality(String),
    visitor_key String,
    identity Enum8('measurement' = 1, 'analytics' = 2),
    event_id String,
    type LowCardinality(String),
    name String,
    ts DateTime64(3, 'UTC'),
    url String,
    path String,
    referrer String,
    props Map(String, String),
    element Map(String, String),
    device LowCardinality(String),
    browser LowCardinality(String),
    ingested_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (site, visitor_key, ts, event_id)
TTL expires_at
SETTINGS non_replicated_deduplication_window = 10000;
