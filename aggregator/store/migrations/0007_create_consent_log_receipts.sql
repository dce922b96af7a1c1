-- consent_log_receipts: where each receipt sits in the transparency log, written by the
-- sequencer with the leaves. /api/transparency/inclusion?receipt= and the receipts page
-- look a receipt up here instead of scanning the log.
-- ReplacingMergeTree ORDER BY receipt_id: a point lookup by receipt id; a re-run of the
--   sequencer after a crash writes the same row again.
-- No TTL: it indexes the log, which is kept.
CREATE TABLE IF NOT EXISTS consent_log_receipts
(
    receipt_id String,
    log_index UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY receipt_id;
