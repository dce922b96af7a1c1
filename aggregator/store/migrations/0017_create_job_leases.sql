-- job_leases: which process runs the scheduled jobs, the consent log's sequencer among
-- them (aggregator/jobs/lease.py). A claim of term N is inserted with the deduplication
-- token 'claim:<name>:<N>', so of two processes claiming one term the store keeps the
-- first, and both read back which one won. The holder extends its term with renewals,
-- which are deleted after a week; claims stay, so terms only ever grow.
CREATE TABLE IF NOT EXISTS job_leases
(
    name LowCardinality(String),
    term UInt64,
    holder String,
    kind Enum8('claim' = 1, 'renewal' = 2),
    written_at DateTime64(3, 'UTC'),
    expires_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (name, term, written_at)
TTL toDateTime(written_at) + INTERVAL 7 DAY DELETE WHERE kind = 'renewal'
SETTINGS non_replicated_deduplication_window = 10000;

-- The sequencer's fence: leaves appended at index N carry the deduplication token
-- 'leaves:<N>', so a second sequencer appending at the same index is dropped by the
-- store, finds leaves not its own, and stops (consent/transparency_log.py).
ALTER TABLE consent_log MODIFY SETTING non_replicated_deduplication_window = 10000;
