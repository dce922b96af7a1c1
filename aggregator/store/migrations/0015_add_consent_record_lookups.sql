-- consent_records is read by its key order (site, visitor_key, recorded_at), and also by
-- id: a receipt asked for before the sequencer integrates it, and the erasure that
-- answered a withdrawal or delete request (/api/erasures/{request id}). Without help those
-- read the whole table, for an id anyone may send. Bloom filter skip indexes let a lookup
-- read only the granules that may hold the id (a false positive rate of 0.1 %), so an
-- unknown id reads almost nothing.
-- request_receipt_id: the request an erasure record answers, from its entry ('' for a
--   decision); DEFAULT, so the ledger's inserts fill it and older rows are materialized.
ALTER TABLE consent_records ADD COLUMN IF NOT EXISTS request_receipt_id String DEFAULT JSONExtractString(entry, 'request_receipt_id');
ALTER TABLE consent_records ADD INDEX IF NOT EXISTS receipt_id_bloom receipt_id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE consent_records ADD INDEX IF NOT EXISTS request_receipt_id_bloom request_receipt_id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE consent_records MATERIALIZE COLUMN request_receipt_id;
ALTER TABLE consent_records MATERIALIZE INDEX receipt_id_bloom;
ALTER TABLE consent_records MATERIALIZE INDEX request_receipt_id_bloom;
