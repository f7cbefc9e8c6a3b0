-- Networks of schools and their dated members. Dates are ISO 8601 text (YYYY-MM-DD) on both
-- backends, so they compare as strings and read the same everywhere.

CREATE TABLE networks (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    search_name text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    country text NOT NULL CHECK (country IN ('CL', 'CO')),
    territory_id uuid NOT NULL REFERENCES territories (id),
    territory_path text COLLATE "C" NOT NULL,
    responsible_id uuid REFERENCES organizations (id),
    founded_year integer,
    status text NOT NULL,
    status_since text CHECK (status_since ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    principles_and_needs text,
    objective text,
    idea_fuerza text,
    -- The lists and the yearly work plans, as JSON: parts of the network's document, never
    -- queried on their own.
    mobilisation text NOT NULL DEFAULT '[]',
    collaboration text NOT NULL DEFAULT '[]',
    learnings text NOT NULL DEFAULT '[]',
    challenges text NOT NULL DEFAULT '[]',
    work_plans text NOT NULL DEFAULT '[]',
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX networks_name_idx ON networks (search_name, id);
CREATE INDEX networks_territory_idx ON networks (territory_path);
CREATE INDEX networks_responsible_idx ON networks (responsible_id);

-- A membership: a school or an organisation in a network, with a role, over a period.
-- `joined_on` NULL means "since before records"; `left_on` NULL means "still a member".
CREATE TABLE network_members (
    id uuid PRIMARY KEY,
    network_id uuid NOT NULL REFERENCES networks (id),
    school_id uuid REFERENCES schools (id),
    organization_id uuid REFERENCES organizations (id),
    role text NOT NULL,
    joined_on text CHECK (joined_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    left_on text CHECK (left_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((school_id IS NULL) <> (organization_id IS NULL)),
    CHECK (joined_on IS NULL OR left_on IS NULL OR joined_on < left_on)
);
CREATE INDEX network_members_network_idx ON network_members (network_id, id);
CREATE INDEX network_members_school_idx ON network_members (school_id);
CREATE INDEX network_members_organization_idx ON network_members (organization_id);
