DROP INDEX schools_region_idx;
ALTER TABLE schools DROP COLUMN region_path;
