-- sessions: one row per visit, a visitor's events split at 30 minutes of inactivity (the
-- same split the signal rules use, aggregator/sessionise.py). Anonymous measurement
-- sessions have a daily visitor_key, so they never span two days.
-- ReplacingMergeTree(computed_at), computed_at = the session's newest event: a session
--   that grows is replaced by its longer self; the sessions job first deletes the rows of
--   the visitors it recomputes, so a late event that joins two sessions leaves no stale
--   row. Readers use FINAL.
-- ORDER BY (site, visitor_key, session_start): per visitor (erasure, the /me page) and
--   per site (daily summaries).
-- TTL expires_at: the site's retention, counted from the session's last event.
-- shard_key: cityHash64(visitor_key)
CREATE TABLE IF NOT EXISTS sessions
(
    site LowCardinality(String),
    visitor_key String,
    identity Enum8('measurement' = 1, 'analytics' = 2),
    session_start DateTime64(3, 'UTC'),
    session_end DateTime64(3, 'UTC'),
    events UInt32,
    pageviews UInt32,
    entry_path String,
    exit_path String,
    steps Array(String),
    computed_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(session_start)
ORDER BY (site, visitor_key, session_start)
TTL expires_at;
