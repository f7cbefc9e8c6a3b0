-- Short-cycle improvement plans (planes de mejora de ciclo corto: a problem of practice, an aim,
-- a driver, a change idea and its PDSA cycles) owned by a school or a network, and mentoring
-- visits (mentorías pedagógicas) to a school. Dates are 'YYYY-MM-DD' text, as elsewhere; the
-- nested parts (aim, PDSA cycles, measures, agreements) are JSON text written whole with their
-- row. `territory_path` is the owner's (the school's, or the network's own territory), for
-- scoping in the query; it follows the owner when the owner moves.

CREATE TABLE improvement_cycles (
    id uuid PRIMARY KEY,
    school_id uuid REFERENCES schools (id),
    network_id uuid REFERENCES networks (id),
    territory_path text COLLATE "C" NOT NULL,
    title text NOT NULL,
    problem_of_practice text NOT NULL,
    aim text NOT NULL,
    driver text NOT NULL,
    change_idea text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'completed', 'abandoned')),
    pdsa text NOT NULL DEFAULT '[]',
    measures text NOT NULL DEFAULT '[]',
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (num_nonnulls(school_id, network_id) = 1)
);
CREATE INDEX improvement_cycles_territory_idx ON improvement_cycles (territory_path);
CREATE INDEX improvement_cycles_school_idx ON improvement_cycles (school_id, id);
CREATE INDEX improvement_cycles_network_idx ON improvement_cycles (network_id, id);

CREATE TABLE mentoring_visits (
    id uuid PRIMARY KEY,
    school_id uuid NOT NULL REFERENCES schools (id),
    territory_path text COLLATE "C" NOT NULL,
    network_id uuid REFERENCES networks (id),
    mentor_person_id uuid NOT NULL REFERENCES people (id),
    mentee_person_id uuid NOT NULL REFERENCES people (id),
    mentee_role text NOT NULL CHECK (mentee_role IN ('director', 'teacher')),
    visited_on text COLLATE "C" NOT NULL CHECK (visited_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    focus text NOT NULL,
    observations text,
    agreements text NOT NULL DEFAULT '[]',
    follow_up text,
    follow_up_on text CHECK (follow_up_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (mentor_person_id <> mentee_person_id),
    CHECK (follow_up_on IS NULL OR follow_up_on > visited_on)
);
CREATE INDEX mentoring_visits_order_idx ON mentoring_visits (visited_on, id);
CREATE INDEX mentoring_visits_territory_idx ON mentoring_visits (territory_path);
CREATE INDEX mentoring_visits_school_idx ON mentoring_visits (school_id);
CREATE INDEX mentoring_visits_network_idx ON mentoring_visits (network_id);
CREATE INDEX mentoring_visits_mentor_idx ON mentoring_visits (mentor_person_id);
CREATE INDEX mentoring_visits_mentee_idx ON mentoring_visits (mentee_person_id);
