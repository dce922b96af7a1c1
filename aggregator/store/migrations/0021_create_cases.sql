-- customer_references: a customer's own reference at the site, sealed (AES-256-GCM under a
-- key derived from the site key, bound to site and customer key; consent/sealing.py),
-- stored only when a signed-in page links a browser that allows personalization, so that
-- the site's team can reach the customer a case is about (consent/customer_references.py).
-- ReplacingMergeTree(recorded_at) ORDER BY (site, visitor_key, customer_key): linking again
--   renews the row. The cases job deletes the rows of a visitor who no longer allows
--   personalization; erasure deletes them with every other visitor_key row.
-- TTL expires_at: the site's retention from the last link.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS customer_references
(
    site LowCardinality(String),
    visitor_key String,
    customer_key String,
    sealed String,
    recorded_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (site, visitor_key, customer_key)
TTL expires_at;

-- cases: a finding of an actionable rule about a customer whose linked visitor allows
-- personalization, opened in the site's inbox by the cases job (aggregator/cases/). The
-- case id is derived from the finding's key (site, visitor key, rule, window start), so a
-- finding seen again never opens a second case; while a customer has an open case of a
-- rule, no further case of it opens. What happened to a case is in case_actions.
-- ReplacingMergeTree(opened_at) ORDER BY (site, visitor_key, case_id): one row per case.
-- TTL expires_at: the site's retention from opening. Erasure and the cases job (when
--   personalization is withdrawn) delete a visitor's cases.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS cases
(
    site LowCardinality(String),
    visitor_key String,
    case_id String,
    customer_key String,
    rule_id LowCardinality(String),
    rule_version UInt16,
    window_start DateTime('UTC'),
    window_end DateTime('UTC'),
    weight Float64,
    opened_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(opened_at)
ORDER BY (site, visitor_key, case_id)
TTL expires_at;

-- case_actions: every step taken on a case, by whom (admin:<user>, api:<key id>), and an
-- agent's note sealed like a customer reference (bound to site and case id). A case's
-- status, owner and response times are folded from its rows (aggregator/cases/state.py).
-- ReplacingMergeTree(at) ORDER BY (site, visitor_key, case_id, at, action_id): a step
--   written twice collapses; every other row is history.
-- TTL expires_at: the case's own expiry.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS case_actions
(
    site LowCardinality(String),
    visitor_key String,
    case_id String,
    action_id String,
    at DateTime64(3, 'UTC'),
    actor String,
    action Enum8('claimed' = 1, 'released' = 2, 'contacted' = 3, 'resolved' = 4,
                 'dismissed' = 5, 'reopened' = 6, 'noted' = 7, 'acknowledged' = 8),
    note String,
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (site, visitor_key, case_id, at, action_id)
TTL expires_at;

-- scopes: what a key may do besides sending server events ('cases': read a site's cases
-- and record what its team did). Keys made before have none.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS scopes Array(LowCardinality(String)) DEFAULT [];
