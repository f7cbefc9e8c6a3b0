-- The territory catalogue. Keys and paths use the "C" collation so that their order (and the
-- range scans over path prefixes that select a subtree) is plain byte order, as on SQLite.
CREATE TABLE territories (
    id uuid PRIMARY KEY,
    key text COLLATE "C" NOT NULL UNIQUE,
    country text NOT NULL CHECK (country IN ('CL', 'CO')),
    level text NOT NULL
        CHECK (level IN ('country', 'region', 'provincia', 'comuna', 'departamento', 'municipio')),
    code text NOT NULL,
    name text NOT NULL,
    search_name text NOT NULL,
    parent_id uuid REFERENCES territories (id),
    depth smallint NOT NULL CHECK (depth BETWEEN 0 AND 3),
    path text COLLATE "C" NOT NULL UNIQUE
);

CREATE INDEX territories_parent_key_idx ON territories (parent_id, key);
CREATE INDEX territories_level_key_idx ON territories (level, key);

CREATE TABLE reference_data (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    row_count integer NOT NULL,
    loaded_at timestamptz NOT NULL
);
