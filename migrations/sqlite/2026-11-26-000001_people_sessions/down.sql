DROP TABLE session_agreements;
DROP TABLE session_participant_counts;
DROP TABLE session_attendance;
DROP TABLE sessions;
CREATE TABLE network_members_old (
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
INSERT INTO network_members_old SELECT id, network_id, school_id, organization_id, role,
    joined_on, left_on, version, created_at, updated_at
FROM network_members WHERE person_id IS NULL;
DROP TABLE network_members;
ALTER TABLE network_members_old RENAME TO network_members;
CREATE INDEX network_members_network_idx ON network_members (network_id, id);
CREATE INDEX network_members_school_idx ON network_members (school_id);
CREATE INDEX network_members_organization_idx ON network_members (organization_id);
DROP TABLE person_affiliations;
DROP TABLE people;
