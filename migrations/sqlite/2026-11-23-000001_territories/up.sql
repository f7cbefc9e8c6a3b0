-- The territory catalogue. SQLite compares text byte by byte (BINARY), like "C" on PostgreSQL.
CREATE TABLE territories (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL CHECK (country IN ('CL', 'CO')),
    level TEXT NOT NULL
        CHECK (level IN ('country', 'region', 'provincia', 'comuna', 'departamento', 'municipio')),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    parent_id TEXT REFERENCES territories (id),
    depth INTEGER NOT NULL CHECK (depth BETWEEN 0 AND 3),
    path TEXT NOT NULL UNIQUE
);

CREATE INDEX territories_parent_key_idx ON territories (parent_id, key);
CREATE INDEX territories_level_key_idx ON territories (level, key);

CREATE TABLE reference_data (
    name TEXT PRIMARY KEY NOT NULL,
    checksum TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    loaded_at TEXT NOT NULL
);
