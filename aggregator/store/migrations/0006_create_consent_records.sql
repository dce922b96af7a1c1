-- consent_records: every consent decision, withdrawal and erasure as it was recorded, with the
-- exact entry bytes that become its leaf in the transparency log. The consent gate reads the
-- latest row per (site, visitor_key); the sequencer appends rows to consent_log in
-- recorded_at order.
-- MergeTree ORDER BY (site, visitor_key, recorded_at): "the current state of this visitor"
--   is a short range read.
-- No TTL: the record proves what was agreed (GDPR Art. 7(1)); it holds a pseudonym only.
CREATE TABLE IF NOT EXISTS consent_records
(
    receipt_id String,
    site LowCardinality(String),
    visitor_key String,
    kind Enum8('consent' = 1, 'withdrawal' = 2, 'erasure' = 3),
    analytics Bool,
    personalization Bool,
    method LowCardinality(String),
    notice_version String,
    recorded_at DateTime64(3, 'UTC'),
    expires_at DateTime64(3, 'UTC'),
    entry String,
    leaf_hash FixedString(32)
)
ENGINE = MergeTree
ORDER BY (site, visitor_key, recorded_at);
