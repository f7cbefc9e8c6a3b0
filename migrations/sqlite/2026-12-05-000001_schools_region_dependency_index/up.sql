-- The schools of one región and one dependency ("the municipal schools of my región"), in
-- name order: an equality on both columns and an ordered walk of exactly one page's rows,
-- where schools_region_idx reads the región's schools of every dependency and drops the others
-- (181 rows visited for a page of 50, docs/PERFORMANCE.md).
CREATE INDEX schools_region_dependency_idx ON schools (region_path, dependency, search_name, id);
