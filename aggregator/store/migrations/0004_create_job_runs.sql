-- job_runs: one row per scheduled or manual job run (start, end, rows in and out, status,
-- error) and the watermark it advanced to, per job and site.
-- MergeTree ORDER BY (job, site, started_at): read as "the latest successful run of job J
-- for site S" by the next run and by the console.
-- TTL: a year of run history is enough to investigate a problem.
CREATE TABLE IF NOT EXISTS job_runs
(
    run_id UUID,
    job LowCardinality(String),
    site LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    finished_at DateTime64(3, 'UTC'),
    status Enum8('ok' = 1, 'failed' = 2, 'skipped' = 3),
    rows_in UInt64,
    rows_out UInt64,
    watermark DateTime64(3, 'UTC'),
    error String
)
ENGINE = MergeTree
ORDER BY (job, site, started_at)
TTL toDateTime(started_at) + INTERVAL 1 YEAR;
