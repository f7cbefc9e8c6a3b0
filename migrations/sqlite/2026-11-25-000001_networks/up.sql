-- Networks of schools and their dated members (see the PostgreSQL migration for the design).

CREATE TABLE networks (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL CHECK (country IN ('CL', 'CO')),
    territory_id TEXT NOT NULL REFERENCES territories (id),
    territory_path TEXT NOT NULL,
    responsible_id TEXT REFERENCES organizations (id),
    founded_year INTEGER,
    status TEXT NOT NULL,
    status_since TEXT CHECK (status_since GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    principles_and_needs TEXT,
    objective TEXT,
    idea_fuerza TEXT,
    mobilisation TEXT NOT NULL DEFAULT '[]',
    collaboration TEXT NOT NULL DEFAULT '[]',
    learnings TEXT NOT NULL DEFAULT '[]',
    challenges TEXT NOT NULL DEFAULT '[]',
    work_plans TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX networks_name_idx ON networks (search_name, id);
CREATE INDEX networks_territory_idx ON networks (territory_path);
CREATE INDEX networks_responsible_idx ON networks (responsible_id);

CREATE TABLE network_members (
    id TEXT PRIMARY KEY NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks (id),
    school_id TEXT REFERENCES schools (id),
    organization_id TEXT REFERENCES organizations (id),
    role TEXT NOT NULL,
    joined_on TEXT CHECK (joined_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    left_on TEXT CHECK (left_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((school_id IS NULL) <> (organization_id IS NULL)),
    CHECK (joined_on IS NULL OR left_on IS NULL OR joined_on < left_on)
);
CREATE INDEX network_members_network_idx ON network_members (network_id, id);
CREATE INDEX network_members_school_idx ON network_members (school_id);
CREATE INDEX network_members_organization_idx ON network_members (organization_id);
