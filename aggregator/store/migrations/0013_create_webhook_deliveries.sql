-- webhook_deliveries: the delivery log of signed webhooks (aggregator/webhooks.py). A
-- delivery is one signal told to one site; its id is derived from the signal's key (site,
-- visitor key, rule, window start), so finding the same signal again never queues it twice.
-- One row per step: 'pending' when queued (attempt 0), then one row per HTTP attempt
-- ('retrying', 'delivered' or 'failed', with the answer's status or the error), or
-- 'cancelled' when the visitor no longer allows personalization or the signal is gone.
-- A delivery's state is its row with the highest (attempt, status).
-- ReplacingMergeTree(attempted_at) ORDER BY (site, visitor_key, delivery_id, attempt,
--   status): a step written twice (two job processes overlapping) collapses to one row;
--   every other row is history. Read per site and visitor (the job, erasure, /me).
-- PARTITION BY toYYYYMM(window_start): every row of a delivery lands in one partition.
-- TTL expires_at: the signal's own expiry (its site's retention), so the log holds a
--   visitor key no longer than the signal does.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS webhook_deliveries
(
    delivery_id String,
    site LowCardinality(String),
    visitor_key String,
    rule_id LowCardinality(String),
    rule_version UInt16,
    window_start DateTime('UTC'),
    attempt UInt8,
    status Enum8('pending' = 1, 'retrying' = 2, 'delivered' = 3, 'failed' = 4, 'cancelled' = 5),
    http_status UInt16,
    error String,
    attempted_at DateTime64(3, 'UTC'),
    next_attempt_at Nullable(DateTime64(3, 'UTC')),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(attempted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, visitor_key, delivery_id, attempt, status)
TTL expires_at;
