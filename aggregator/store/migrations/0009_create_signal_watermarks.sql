-- signal_watermarks: per site, the newest ingested_at the signals job has taken into
-- account. The next run looks again at visitors with events ingested after it (minus a
-- grace period for events that reach the store late).
-- ReplacingMergeTree(updated_at) ORDER BY (job, site): one current row per job and site.
-- No TTL: one small row per site.
CREATE TABLE IF NOT EXISTS signal_watermarks
(
    job LowCardinality(String),
    site LowCardinality(String),
    watermark DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (job, site);
