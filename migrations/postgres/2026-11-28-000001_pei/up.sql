-- A school's PEI (Proyecto Educativo Institucional), one row per revision: a change writes a
-- new revision and the old ones stay, as the PEI's history. Its sellos keep their ids across
-- revisions, so that plans can be linked to them.

CREATE TABLE pei_revisions (
    id uuid PRIMARY KEY,
    school_id uuid NOT NULL REFERENCES schools (id),
    revision bigint NOT NULL,
    period_from integer NOT NULL,
    period_to integer NOT NULL,
    vision text,
    mission text,
    principles text NOT NULL DEFAULT '[]',
    school_values text NOT NULL DEFAULT '[]',
    profiles text NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    UNIQUE (school_id, revision),
    CHECK (period_from <= period_to)
);

CREATE TABLE pei_sellos (
    revision_id uuid NOT NULL REFERENCES pei_revisions (id),
    id uuid NOT NULL,
    ordinal integer NOT NULL,
    name text NOT NULL,
    description text,
    PRIMARY KEY (revision_id, id)
);
CREATE INDEX pei_sellos_id_idx ON pei_sellos (id);
