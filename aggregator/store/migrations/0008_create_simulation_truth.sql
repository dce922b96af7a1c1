-- simulation_truth: what `clearsignal simulate` planted, per visitor and signal rule: the
-- behaviour of the rule ('planted') or a look-alike just under its threshold ('lookalike').
-- Tests and the validation of rules compare what the signals job found against it.
-- MergeTree ORDER BY (site, rule_id, visitor_key): read per site and rule.
-- No TTL: simulated data lives as long as the simulated events; erasure removes a
-- visitor's rows like any other table with a visitor_key.
CREATE TABLE IF NOT EXISTS simulation_truth
(
    site LowCardinality(String),
    visitor_key String,
    rule_id LowCardinality(String),
    role Enum8('planted' = 1, 'lookalike' = 2),
    simulated_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (site, rule_id, visitor_key);
