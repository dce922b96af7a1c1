-- checkpoint_cosignatures: witnesses' cosignatures (C2SP tlog-cosignature/v1) of signed
-- checkpoints, as witnesses hand them in (POST /api/transparency/cosignatures); each is
-- verified with a witness key from the settings before it is stored. Served appended to
-- the checkpoint they cosign, in receipts and at /api/transparency/checkpoint.
-- ReplacingMergeTree(cosigned_at) ORDER BY (tree_size, root_hash, witness): a witness that
--   cosigns the same checkpoint again keeps its newest line. The root is part of the key:
--   a cosignature of a checkpoint that was later replaced stays, and `audit verify` sees it.
-- No TTL: cosignatures are the log's evidence, kept like the checkpoints.
CREATE TABLE IF NOT EXISTS checkpoint_cosignatures
(
    tree_size UInt64,
    root_hash FixedString(32),
    witness String,
    cosigned_at DateTime('UTC'),
    line String
)
ENGINE = ReplacingMergeTree(cosigned_at)
ORDER BY (tree_size, root_hash, witness);

-- inserted_at: when the store took a consent record, and the same for its leaf. The
-- sequencer picks up every record inserted since (its newest leaf's insert - 1 hour),
-- whatever its recorded_at: a decision recorded during a store outage and inserted hours
-- later is sequenced like any other. Rows that exist now get the time of this migration.
ALTER TABLE consent_records ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT now64(3);
ALTER TABLE consent_records MATERIALIZE COLUMN inserted_at;
ALTER TABLE consent_log ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT now64(3);
ALTER TABLE consent_log MATERIALIZE COLUMN inserted_at;
