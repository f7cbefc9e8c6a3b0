-- People, person members and sessions (see the PostgreSQL migration for the design).

CREATE TABLE people (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    country TEXT NOT NULL CHECK (country IN ('CL', 'CO')),
    territory_id TEXT NOT NULL REFERENCES territories (id),
    territory_path TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX people_name_idx ON people (search_name, id);
CREATE INDEX people_territory_idx ON people (territory_path);

-- Where a person works, and as what. Replaced whole with the person.
CREATE TABLE person_affiliations (
    person_id TEXT NOT NULL REFERENCES people (id),
    ordinal INTEGER NOT NULL,
    school_id TEXT REFERENCES schools (id),
    organization_id TEXT REFERENCES organizations (id),
    position TEXT NOT NULL,
    PRIMARY KEY (person_id, ordinal),
    CHECK ((school_id IS NULL) <> (organization_id IS NULL))
);
CREATE INDEX person_affiliations_school_idx ON person_affiliations (school_id);
CREATE INDEX person_affiliations_organization_idx ON person_affiliations (organization_id);

-- A network member is now a school, an organisation or a person. SQLite cannot change a
-- table's CHECK, so the table is rebuilt (nothing refers to it).
CREATE TABLE network_members_new (
    id TEXT PRIMARY KEY NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks (id),
    school_id TEXT REFERENCES schools (id),
    organization_id TEXT REFERENCES organizations (id),
    person_id TEXT REFERENCES people (id),
    role TEXT NOT NULL,
    joined_on TEXT CHECK (joined_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    left_on TEXT CHECK (left_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((school_id IS NOT NULL) + (organization_id IS NOT NULL) + (person_id IS NOT NULL) = 1),
    CHECK (joined_on IS NULL OR left_on IS NULL OR joined_on < left_on)
);
INSERT INTO network_members_new (id, network_id, school_id, organization_id, role, joined_on,
    left_on, version, created_at, updated_at)
SELECT id, network_id, school_id, organization_id, role, joined_on, left_on, version,
    created_at, updated_at
FROM network_members;
DROP TABLE network_members;
ALTER TABLE network_members_new RENAME TO network_members;
CREATE INDEX network_members_network_idx ON network_members (network_id, id);
CREATE INDEX network_members_school_idx ON network_members (school_id);
CREATE INDEX network_members_organization_idx ON network_members (organization_id);
CREATE INDEX network_members_person_idx ON network_members (person_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks (id),
    title TEXT NOT NULL,
    -- NULL when the record gives no date (a report of several encounters).
    date TEXT CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    start_time TEXT CHECK (start_time GLOB '[0-9][0-9]:[0-9][0-9]'),
    duration_minutes INTEGER CHECK (duration_minutes > 0),
    modality TEXT,
    status TEXT NOT NULL,
    host_school_id TEXT REFERENCES schools (id),
    place TEXT,
    work_plan_objective TEXT,
    agenda TEXT NOT NULL DEFAULT '[]',
    evidence TEXT NOT NULL DEFAULT '[]',
    reflection TEXT,
    notes TEXT,
    -- The date, or '' when there is none: the list order, with the id.
    sort_key TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sessions_network_idx ON sessions (network_id, sort_key, id);
CREATE INDEX sessions_order_idx ON sessions (sort_key, id);
CREATE INDEX sessions_host_idx ON sessions (host_school_id);

CREATE TABLE session_attendance (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    status TEXT NOT NULL,
    PRIMARY KEY (session_id, person_id)
);
CREATE INDEX session_attendance_person_idx ON session_attendance (person_id);

-- Head counts by role, for events too large to record person by person.
CREATE TABLE session_participant_counts (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    ordinal INTEGER NOT NULL,
    role TEXT NOT NULL,
    unit TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    invited INTEGER CHECK (invited >= 0),
    label TEXT,
    PRIMARY KEY (session_id, ordinal)
);

CREATE TABLE session_agreements (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    ordinal INTEGER NOT NULL,
    TEXT TEXT NOT NULL,
    owner_person_id TEXT REFERENCES people (id),
    owner_school_id TEXT REFERENCES schools (id),
    due_on TEXT CHECK (due_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status TEXT NOT NULL,
    followed_up_in TEXT REFERENCES sessions (id),
    CHECK (owner_person_id IS NULL OR owner_school_id IS NULL)
);
CREATE INDEX session_agreements_session_idx ON session_agreements (session_id, ordinal);
CREATE INDEX session_agreements_follow_up_idx ON session_agreements (followed_up_in);
CREATE INDEX session_agreements_person_idx ON session_agreements (owner_person_id);
CREATE INDEX session_agreements_school_idx ON session_agreements (owner_school_id);
