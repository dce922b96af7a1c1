-- admin_actions: every action taken in /admin, by whom and with what outcome: sign-in,
-- failed sign-in, lockout, sign-out, consent log search, log verification, export, receipt
-- and record-of-processing views, and requests refused for a missing role or CSRF token.
-- The client is a keyed digest of its network address (collector/admin/sessions.py): no
-- raw address is stored. No visitor_key column: a search names a receipt id at most, and
-- erasure (consent/erasure.py, which deletes from every table with a visitor_key) has
-- nothing to remove here.
-- MergeTree ORDER BY (at, username): read newest first, optionally for one user.
-- No shard key: a small table, replicated whole to every node of a cluster.
-- TTL: two years, long enough to answer how the consent records were handled.
CREATE TABLE IF NOT EXISTS admin_actions
(
    action_id UUID,
    at DateTime64(3, 'UTC'),
    username String,
    role LowCardinality(String),
    action LowCardinality(String),
    outcome Enum8('ok' = 1, 'refused' = 2, 'failed' = 3),
    site LowCardinality(String),
    detail String,
    client String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (at, username)
TTL toDateTime(at) + INTERVAL 2 YEAR;
