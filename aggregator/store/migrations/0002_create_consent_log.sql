-- consent_log: the leaves of the transparency log (RFC 6962), one per consent record,
-- withdrawal or erasure, in the order the single sequencer integrated them.
-- MergeTree ORDER BY log_index: append-only, read in index order by proofs and audits.
-- No TTL: the log is the proof of consent and must outlive the events it covers; it holds
-- pseudonyms only.
CREATE TABLE IF NOT EXISTS consent_log
(
    log_index UInt64,
    leaf_hash FixedString(32),
    entry String,
    receipt_id String,
    site LowCardinality(String),
    visitor_key String,
    kind Enum8('consent' = 1, 'withdrawal' = 2, 'erasure' = 3),
    recorded_at DateTime64(3, 'UTC'),
    integrated_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY log_index;

-- consent_log_nodes: hashes of the perfect subtrees (level, index) of the log, written by
-- the sequencer, so any inclusion or consistency proof is O(log n) lookups.
-- ReplacingMergeTree: a node is a pure function of its leaves; a re-run writes the same row.
CREATE TABLE IF NOT EXISTS consent_log_nodes
(
    level UInt8,
    node_index UInt64,
    hash FixedString(32)
)
ENGINE = ReplacingMergeTree
ORDER BY (level, node_index);

-- checkpoints: signed tree heads (C2SP tlog-checkpoint text, Ed25519 signed note).
CREATE TABLE IF NOT EXISTS checkpoints
(
    tree_size UInt64,
    root_hash FixedString(32),
    signed_at DateTime64(3, 'UTC'),
    note String
)
ENGINE = MergeTree
ORDER BY tree_size;
