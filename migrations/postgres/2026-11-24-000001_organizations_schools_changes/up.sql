-- Organisations, schools and the change journal. Every row stores the path of its territory
-- (see territories.path) so that territorial scoping is a range condition on its own table.

CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    name text NOT NULL,
    search_name text COLLATE "C" NOT NULL,
    country text NOT NULL CHECK (country IN ('CL', 'CO')),
    territory_id uuid NOT NULL REFERENCES territories (id),
    territory_path text COLLATE "C" NOT NULL,
    rut text,
    etc_code text,
    secretaria_level text,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_rut_key ON organizations (rut) WHERE rut IS NOT NULL;
CREATE UNIQUE INDEX organizations_etc_code_key ON organizations (etc_code) WHERE etc_code IS NOT NULL;
CREATE INDEX organizations_name_idx ON organizations (search_name, id);
CREATE INDEX organizations_territory_idx ON organizations (territory_path);

CREATE TABLE schools (
    id uuid PRIMARY KEY,
    country text NOT NULL CHECK (country IN ('CL', 'CO')),
    name text NOT NULL,
    search_name text COLLATE "C" NOT NULL,
    territory_id uuid NOT NULL REFERENCES territories (id),
    territory_path text COLLATE "C" NOT NULL,
    rural boolean,
    status text,
    -- Chile
    rbd integer,
    rbd_dv text,
    dependency text,
    -- COD_ENSE2 level names between commas (",basica_ninos,media_hc_jovenes,") for LIKE filters.
    levels text NOT NULL DEFAULT '',
    sostenedor_id uuid REFERENCES organizations (id),
    -- Colombia
    dane_code text,
    sector text,
    secretaria_id uuid REFERENCES organizations (id),
    -- The sedes as a JSON array: part of the school's document, never queried on their own.
    sedes text NOT NULL DEFAULT '[]',
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX schools_rbd_key ON schools (rbd) WHERE rbd IS NOT NULL;
CREATE UNIQUE INDEX schools_dane_code_key ON schools (dane_code) WHERE dane_code IS NOT NULL;
CREATE INDEX schools_name_idx ON schools (search_name, id);
CREATE INDEX schools_territory_idx ON schools (territory_path, search_name, id);
CREATE INDEX schools_sostenedor_idx ON schools (sostenedor_id);
CREATE INDEX schools_secretaria_idx ON schools (secretaria_id);

-- The change journal: one row per write, in the writer's transaction. Writers take the journal
-- lock (an advisory lock) just before appending and hold it to commit, so sequence numbers are
-- assigned in commit order and a reader never sees seq N before every seq below N is visible.
CREATE TABLE change_journal (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource text NOT NULL,
    resource_id uuid NOT NULL,
    operation text NOT NULL CHECK (operation IN ('created', 'updated', 'deleted')),
    at timestamptz NOT NULL,
    territory_path text COLLATE "C" NOT NULL,
    -- Where the resource was before an update that moved it, so that the territory it left
    -- also learns of the change; '' when it did not move (no scope range contains '').
    previous_territory_path text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX change_journal_resource_idx ON change_journal (resource, seq);
