-- Improvement cycles and mentoring visits (see the PostgreSQL migration for the design).

CREATE TABLE improvement_cycles (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT REFERENCES schools (id),
    network_id TEXT REFERENCES networks (id),
    territory_path TEXT NOT NULL,
    title TEXT NOT NULL,
    problem_of_practice TEXT NOT NULL,
    aim TEXT NOT NULL,
    driver TEXT NOT NULL,
    change_idea TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'abandoned')),
    pdsa TEXT NOT NULL DEFAULT '[]',
    measures TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((school_id IS NOT NULL) + (network_id IS NOT NULL) = 1)
);
CREATE INDEX improvement_cycles_territory_idx ON improvement_cycles (territory_path);
CREATE INDEX improvement_cycles_school_idx ON improvement_cycles (school_id, id);
CREATE INDEX improvement_cycles_network_idx ON improvement_cycles (network_id, id);

CREATE TABLE mentoring_visits (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    territory_path TEXT NOT NULL,
    network_id TEXT REFERENCES networks (id),
    mentor_person_id TEXT NOT NULL REFERENCES people (id),
    mentee_person_id TEXT NOT NULL REFERENCES people (id),
    mentee_role TEXT NOT NULL CHECK (mentee_role IN ('director', 'teacher')),
    visited_on TEXT NOT NULL CHECK (visited_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    focus TEXT NOT NULL,
    observations TEXT,
    agreements TEXT NOT NULL DEFAULT '[]',
    follow_up TEXT,
    follow_up_on TEXT CHECK (follow_up_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (mentor_person_id <> mentee_person_id),
    CHECK (follow_up_on IS NULL OR follow_up_on > visited_on)
);
CREATE INDEX mentoring_visits_order_idx ON mentoring_visits (visited_on, id);
CREATE INDEX mentoring_visits_territory_idx ON mentoring_visits (territory_path);
CREATE INDEX mentoring_visits_school_idx ON mentoring_visits (school_id);
CREATE INDEX mentoring_visits_network_idx ON mentoring_visits (network_id);
CREATE INDEX mentoring_visits_mentor_idx ON mentoring_visits (mentor_person_id);
CREATE INDEX mentoring_visits_mentee_idx ON mentoring_visits (mentee_person_id);
