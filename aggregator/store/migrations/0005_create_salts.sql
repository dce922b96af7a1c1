-- salts: the daily salt of the measurement purpose, shared by every collector process.
-- PARTITION BY day: destroying a day's salt is dropping its partition, which removes the
--   data itself (a DELETE would only mask it until a merge).
-- MergeTree ORDER BY day: two processes may insert a salt for the same day at once;
--   everyone uses the smaller one.
CREATE TABLE IF NOT EXISTS salts
(
    day Date,
    salt String, -- 64 hex characters (32 random bytes)
    created_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY day
ORDER BY day;
