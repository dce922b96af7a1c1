-- signals: what a signal rule found about one visitor in one window. Every row carries the
-- rule version and its evidence so it can be explained to the visitor and re-derived.
-- ReplacingMergeTree(computed_at): recomputing a window replaces the row, so jobs are
--   idempotent; readers use FINAL.
-- ORDER BY (site, visitor_key, rule_id, window_start): read per visitor (the /me page,
--   proactive help, erasure) and per rule (prevalence).
-- TTL expires_at: the site's retention, counted from the newest evidence.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS signals
(
    site LowCardinality(String),
    visitor_key String,
    rule_id LowCardinality(String),
    rule_version UInt16,
    window_start DateTime('UTC'),
    window_end DateTime('UTC'),
    value Float64,
    evidence Array(Tuple(event_id String, ts DateTime64(3, 'UTC'), detail String)),
    computed_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, visitor_key, rule_id, window_start)
TTL expires_at;
