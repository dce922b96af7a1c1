-- notifications: what a site's team was told besides webhooks of single signals: the
-- weekly digest and alerts (aggregator/reports/). One row per attempt and channel ('mail'
-- or 'webhook'), with its outcome; an alert's or digest's key (the week, the alert's
-- subject and day) makes it go out once however often the job runs.
-- ReplacingMergeTree(sent_at) ORDER BY (site, kind, key, channel): a retry replaces the
--   failed attempt's row.
-- No visitor_key: nothing in it is about one person (aggregates only, k-anonymous).
-- TTL expires_at: a year after sending.
CREATE TABLE IF NOT EXISTS notifications
(
    site LowCardinality(String),
    kind LowCardinality(String),
    key String,
    channel LowCardinality(String),
    status Enum8('sent' = 1, 'failed' = 2),
    error String,
    subject String,
    body String,
    sent_at DateTime64(3, 'UTC'),
    expires_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(sent_at)
ORDER BY (site, kind, key, channel)
TTL expires_at;
