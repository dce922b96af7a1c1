-- api_keys: the keys a site's backends send server events with (collector/api_keys.py).
-- Only a SHA-256 of each key's secret is stored (the secret is 256 random bits, shown once
-- when the key is made), with the site and the event kinds it may send.
-- ReplacingMergeTree(updated_at) ORDER BY (site, key_id): revoking writes the key's row
--   again with revoked_at set; readers use FINAL.
-- No shard key: a small table with one home on a cluster, the first shard (and its replicas).
-- No TTL and no visitor_key: a revoked key stays listed, so the record of who could send
--   what stays whole.
CREATE TABLE IF NOT EXISTS api_keys
(
    site LowCardinality(String),
    key_id String,
    name String,
    secret_sha256 FixedString(32),
    kinds Array(LowCardinality(String)),
    created_at DateTime64(3, 'UTC'),
    created_by String,
    revoked_at Nullable(DateTime64(3, 'UTC')),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (site, key_id);
