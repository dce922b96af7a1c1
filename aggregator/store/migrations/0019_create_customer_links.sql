-- customer_links: a browser linked to a customer of the site, proven by the site
-- (a link token signed with the site's link secret, checked by POST /api/visitor/link;
-- consent/customer_links.py). Only pseudonyms: visitor_key is HMAC(site key, browser id),
-- customer_key HMAC(site key, customer reference).
-- A server event counts for the customer's most recently linked visitor that holds a
-- current analytics grant; erasure of that visitor removes the link with everything else
-- (the table has a visitor_key column).
-- ReplacingMergeTree(linked_at): linking again renews the row.
-- ORDER BY (site, visitor_key, customer_key): one row per pair; a lookup by customer key
--   reads only the granules its bloom filter admits.
-- TTL expires_at: the site's retention from the last link.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS customer_links
(
    site LowCardinality(String),
    visitor_key String,
    customer_key String,
    linked_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(linked_at)
ORDER BY (site, visitor_key, customer_key)
TTL expires_at;
ALTER TABLE customer_links ADD INDEX IF NOT EXISTS customer_key_bloom customer_key TYPE bloom_filter(0.001) GRANULARITY 1;
