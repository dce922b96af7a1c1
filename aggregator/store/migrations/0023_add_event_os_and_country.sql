-- The operating system family (from the User-Agent header, as device and browser are) and
-- the country (ISO 3166-1 alpha-2, from the client's network address at ingest; the
-- address itself is never stored) of each event, for the dashboard's breakdowns.
-- '' where unknown: events stored before this migration, private addresses.
ALTER TABLE events ADD COLUMN IF NOT EXISTS os LowCardinality(String);
ALTER TABLE events ADD COLUMN IF NOT EXISTS country LowCardinality(String);
