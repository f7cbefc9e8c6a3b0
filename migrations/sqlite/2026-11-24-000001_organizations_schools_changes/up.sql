-- Organisations, schools and the change journal (see the PostgreSQL migration for the design).

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    country TEXT NOT NULL CHECK (country IN ('CL', 'CO')),
    territory_id TEXT NOT NULL REFERENCES territories (id),
    territory_path TEXT NOT NULL,
    rut TEXT,
    etc_code TEXT,
    secretaria_level TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX organizations_rut_key ON organizations (rut) WHERE rut IS NOT NULL;
CREATE UNIQUE INDEX organizations_etc_code_key ON organizations (etc_code) WHERE etc_code IS NOT NULL;
CREATE INDEX organizations_name_idx ON organizations (search_name, id);
CREATE INDEX organizations_territory_idx ON organizations (territory_path);

CREATE TABLE schools (
    id TEXT PRIMARY KEY NOT NULL,
    country TEXT NOT NULL CHECK (country IN ('CL', 'CO')),
    name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    territory_id TEXT NOT NULL REFERENCES territories (id),
    territory_path TEXT NOT NULL,
    rural BOOLEAN,
    status TEXT,
    rbd INTEGER,
    rbd_dv TEXT,
    dependency TEXT,
    levels TEXT NOT NULL DEFAULT '',
    sostenedor_id TEXT REFERENCES organizations (id),
    dane_code TEXT,
    sector TEXT,
    secretaria_id TEXT REFERENCES organizations (id),
    sedes TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX schools_rbd_key ON schools (rbd) WHERE rbd IS NOT NULL;
CREATE UNIQUE INDEX schools_dane_code_key ON schools (dane_code) WHERE dane_code IS NOT NULL;
CREATE INDEX schools_name_idx ON schools (search_name, id);
CREATE INDEX schools_territory_idx ON schools (territory_path, search_name, id);
CREATE INDEX schools_sostenedor_idx ON schools (sostenedor_id);
CREATE INDEX schools_secretaria_idx ON schools (secretaria_id);

-- SQLite runs one writer at a time, so AUTOINCREMENT numbers are already in commit order.
CREATE TABLE change_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    resource TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('created', 'updated', 'deleted')),
    at TEXT NOT NULL,
    territory_path TEXT NOT NULL,
    previous_territory_path TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_journal_resource_idx ON change_journal (resource, seq);
