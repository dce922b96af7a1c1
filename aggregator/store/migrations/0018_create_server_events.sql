-- server_events: one row per event a site's own systems sent (orders, subscriptions,
-- support contacts, complaints, SLA breaches, handovers, explicit scores), through
-- POST /api/server-events or `clearsignal import server-events`. Categories, ids, amounts
-- and statuses only: the kinds' wire models refuse free text, names and e-mail addresses.
-- customer_key is HMAC-SHA256(site key, customer reference): the reference is never
-- stored. visitor_key is the linked visitor's key (consent/customer_links.py) when the
-- visitor held an analytics grant as the row was written, or '' for a kind the site
-- declared another lawful basis for (basis names it), so erasure finds every row linked
-- to a visitor, and a deletion by customer reference finds the rest.
--
-- ReplacingMergeTree(ingested_at): a backend's retry, a replayed spool batch or an import
--   run twice carries the same event_id, so duplicates collapse to one row; readers use
--   FINAL.
-- ORDER BY (site, visitor_key, customer_key, event_id): read per visitor (signals, /me,
--   erasure) and per customer (deletion by reference); the event id makes replays one row.
-- PARTITION BY month; TTL expires_at: each site's retention, fixed per row when written.
-- non_replicated_deduplication_window: a spool batch re-sent after a crash, with the same
--   insert_deduplication_token, is ignored by the server at insert time.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS server_events
(
    site LowCardinality(String),
    visitor_key String,
    customer_key String,
    event_id String,
    kind LowCardinality(String),
    action LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    attributes Map(LowCardinality(String), String),
    amount Float64,
    currency LowCardinality(String),
    quantity UInt32,
    basis LowCardinality(String),
    source LowCardinality(String),
    ingested_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (site, visitor_key, customer_key, event_id)
TTL expires_at
SETTINGS non_replicated_deduplication_window = 10000;
ALTER TABLE server_events ADD INDEX IF NOT EXISTS customer_key_bloom customer_key TYPE bloom_filter(0.001) GRANULARITY 1;
