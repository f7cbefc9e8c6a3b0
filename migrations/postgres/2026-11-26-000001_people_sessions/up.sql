-- People (no national ID numbers), person members of networks, and network sessions with
-- attendance, aggregate participant counts and agreements. Dates are 'YYYY-MM-DD' text and
-- times 'HH:MM' text on both backends, as in the networks migration.

CREATE TABLE people (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    search_name text COLLATE "C" NOT NULL,
    email text,
    phone text,
    country text NOT NULL CHECK (country IN ('CL', 'CO')),
    territory_id uuid NOT NULL REFERENCES territories (id),
    territory_path text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX people_name_idx ON people (search_name, id);
CREATE INDEX people_territory_idx ON people (territory_path);

-- Where a person works, and as what. Replaced whole with the person.
CREATE TABLE person_affiliations (
    person_id uuid NOT NULL REFERENCES people (id),
    ordinal integer NOT NULL,
    school_id uuid REFERENCES schools (id),
    organization_id uuid REFERENCES organizations (id),
    position text NOT NULL,
    PRIMARY KEY (person_id, ordinal),
    CHECK ((school_id IS NULL) <> (organization_id IS NULL))
);
CREATE INDEX person_affiliations_school_idx ON person_affiliations (school_id);
CREATE INDEX person_affiliations_organization_idx ON person_affiliations (organization_id);

-- A network member is now a school, an organisation or a person.
ALTER TABLE network_members ADD COLUMN person_id uuid REFERENCES people (id);
ALTER TABLE network_members DROP CONSTRAINT network_members_check;
ALTER TABLE network_members ADD CONSTRAINT network_members_one_member
    CHECK (num_nonnulls(school_id, organization_id, person_id) = 1);
CREATE INDEX network_members_person_idx ON network_members (person_id);

CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    network_id uuid NOT NULL REFERENCES networks (id),
    title text NOT NULL,
    -- NULL when the record gives no date (a report of several encounters).
    date text CHECK (date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    start_time text CHECK (start_time ~ '^[0-9]{2}:[0-9]{2}$'),
    duration_minutes integer CHECK (duration_minutes > 0),
    modality text,
    status text NOT NULL,
    host_school_id uuid REFERENCES schools (id),
    place text,
    work_plan_objective text,
    agenda text NOT NULL DEFAULT '[]',
    evidence text NOT NULL DEFAULT '[]',
    reflection text,
    notes text,
    -- The date, or '' when there is none: the list order, with the id.
    sort_key text COLLATE "C" NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX sessions_network_idx ON sessions (network_id, sort_key, id);
CREATE INDEX sessions_order_idx ON sessions (sort_key, id);
CREATE INDEX sessions_host_idx ON sessions (host_school_id);

CREATE TABLE session_attendance (
    session_id uuid NOT NULL REFERENCES sessions (id),
    person_id uuid NOT NULL REFERENCES people (id),
    status text NOT NULL,
    PRIMARY KEY (session_id, person_id)
);
CREATE INDEX session_attendance_person_idx ON session_attendance (person_id);

-- Head counts by role, for events too large to record person by person.
CREATE TABLE session_participant_counts (
    session_id uuid NOT NULL REFERENCES sessions (id),
    ordinal integer NOT NULL,
    role text NOT NULL,
    unit text NOT NULL,
    count integer NOT NULL CHECK (count >= 0),
    invited integer CHECK (invited >= 0),
    label text,
    PRIMARY KEY (session_id, ordinal)
);

CREATE TABLE session_agreements (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    ordinal integer NOT NULL,
    text text NOT NULL,
    owner_person_id uuid REFERENCES people (id),
    owner_school_id uuid REFERENCES schools (id),
    due_on text CHECK (due_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    status text NOT NULL,
    followed_up_in uuid REFERENCES sessions (id),
    CHECK (owner_person_id IS NULL OR owner_school_id IS NULL)
);
CREATE INDEX session_agreements_session_idx ON session_agreements (session_id, ordinal);
CREATE INDEX session_agreements_follow_up_idx ON session_agreements (followed_up_in);
CREATE INDEX session_agreements_person_idx ON session_agreements (owner_person_id);
CREATE INDEX session_agreements_school_idx ON session_agreements (owner_school_id);
