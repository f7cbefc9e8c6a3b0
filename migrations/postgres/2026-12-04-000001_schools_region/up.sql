-- The path of a school's first-level division (región in Chile, departamento in Colombia):
-- `/CL/CL-13/` for a school in `/CL/CL-13/CL-131/CL-13101/`. A list filtered by a región is
-- then one ordered walk of an index instead of every school of the country in name order.
ALTER TABLE schools ADD COLUMN region_path text NOT NULL DEFAULT '';
UPDATE schools SET region_path = coalesce(substring(territory_path FROM '^/[^/]+/[^/]+/'), territory_path);
ALTER TABLE schools ALTER COLUMN region_path DROP DEFAULT;
CREATE INDEX schools_region_idx ON schools (region_path, search_name, id);
