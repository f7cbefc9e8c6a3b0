DROP INDEX indicator_values_pull_idx;
CREATE INDEX indicator_values_period_idx ON indicator_values (indicator_id, period_start);
