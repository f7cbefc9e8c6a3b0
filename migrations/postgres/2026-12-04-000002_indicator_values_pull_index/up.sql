-- An analytics pull reads one disaggregation of its indicators over a span of periods. With
-- the disaggregation in the index, a pull of one IDPS by grado over 10,000 schools reads its
-- 10,346 rows instead of the 41,384 of every grado (docs/PERFORMANCE.md). It replaces the
-- index on (indicator_id, period_start): its leading column still serves the value lists.
DROP INDEX indicator_values_period_idx;
CREATE INDEX indicator_values_pull_idx ON indicator_values (indicator_id, disaggregation, period_start);
