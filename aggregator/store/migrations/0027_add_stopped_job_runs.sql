-- job_runs.status 'stopped': a run ended at its next step because the jobs were stopping
-- (a server shutting down: aggregator.jobs.runner.JobRunner.stop).
ALTER TABLE job_runs MODIFY COLUMN status Enum8('ok' = 1, 'failed' = 2, 'skipped' = 3, 'stopped' = 4);
