-- The path of a school's first-level division (región in Chile, departamento in Colombia):
-- `/CL/CL-13/` for a school in `/CL/CL-13/CL-131/CL-13101/`. A list filtered by a región is
-- then one ordered walk of an index instead of every school of the country in name order.
-- (SQLite cannot drop a column's default; every write sets the column.)
ALTER TABLE schools ADD COLUMN region_path TEXT NOT NULL DEFAULT '';
-- The prefix up to the third '/': the second one lies after the country code.
UPDATE schools SET region_path = CASE
    WHEN instr(substr(territory_path, instr(substr(territory_path, 2), '/') + 2), '/') = 0
    THEN territory_path
    ELSE substr(territory_path, 1,
        instr(substr(territory_path, 2), '/') + 1
        + instr(substr(territory_path, instr(substr(territory_path, 2), '/') + 2), '/'))
END;
CREATE INDEX schools_region_idx ON schools (region_path, search_name, id);
