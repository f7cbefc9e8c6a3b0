-- A school's PEI (Proyecto Educativo Institucional), one row per revision: a change writes a
-- new revision and the old ones stay, as the PEI's history. Its sellos keep their ids across
-- revisions, so that plans can be linked to them.

CREATE TABLE pei_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    revision BIGINT NOT NULL,
    period_from INTEGER NOT NULL,
    period_to INTEGER NOT NULL,
    vision TEXT,
    mission TEXT,
    principles TEXT NOT NULL DEFAULT '[]',
    school_values TEXT NOT NULL DEFAULT '[]',
    profiles TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    UNIQUE (school_id, revision),
    CHECK (period_from <= period_to)
);

CREATE TABLE pei_sellos (
    revision_id TEXT NOT NULL REFERENCES pei_revisions (id),
    id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    PRIMARY KEY (revision_id, id)
);
CREATE INDEX pei_sellos_id_idx ON pei_sellos (id);
