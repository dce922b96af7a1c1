-- signal_validation: per rule, whether visitors with the signal later reached the site's
-- goal more or less often than visitors without it (an association, never proof of
-- cause). Counts only; the dashboard derives rates and 95% Wilson intervals. A rule whose
-- 2x2 table has a non-empty cell under the site's k is stored with suppressed = 1 and
-- zero counts.
-- ReplacingMergeTree(computed_at) ORDER BY (site, rule_id, rule_version, period_end): one
--   report per rule and day; the period ends at the start of the day the job ran, so a
--   rerun that day writes the same row. Readers use FINAL.
-- TTL: two years of reports, to follow a rule across versions.
CREATE TABLE IF NOT EXISTS signal_validation
(
    site LowCardinality(String),
    rule_id LowCardinality(String),
    rule_version UInt16,
    goal String,
    period_start DateTime('UTC'),
    period_end DateTime('UTC'),
    with_visitors UInt64,
    with_goal UInt64,
    without_visitors UInt64,
    without_goal UInt64,
    suppressed Bool,
    computed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (site, rule_id, rule_version, period_end)
TTL period_end + INTERVAL 2 YEAR;
