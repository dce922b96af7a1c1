-- stored_at: when a row reached the store, by the store's own clock. ingested_at is when a
-- collector took it, and some rows reach the store long after: a spool replayed after an
-- outage, events held until their consent is checked, a backend's retry. The incremental
-- jobs read what came since their watermark by stored_at (aggregator.jobs.watermarks), so a
-- row stored late is read by the next run whatever its ingested_at.
-- Rows stored before this migration take their ingested_at (MATERIALIZE fills the parts
-- that lack the column, and only those); rows stored after it, the time of their insert.
ALTER TABLE events ADD COLUMN IF NOT EXISTS stored_at DateTime64(3, 'UTC') DEFAULT ingested_at;
ALTER TABLE events MATERIALIZE COLUMN stored_at SETTINGS mutations_sync = 2;
ALTER TABLE events MODIFY COLUMN stored_at DEFAULT now64(3);
ALTER TABLE server_events ADD COLUMN IF NOT EXISTS stored_at DateTime64(3, 'UTC') DEFAULT ingested_at;
ALTER TABLE server_events MATERIALIZE COLUMN stored_at SETTINGS mutations_sync = 2;
ALTER TABLE server_events MODIFY COLUMN stored_at DEFAULT now64(3);
