-- Plans: a school's PME (Chile) or PMI (Colombia), a Secretaría's PAM and a school's yearly
-- planes normativos share one shape: a plan, a tree of items (strategic objective -> goal ->
-- strategy -> action) and typed, dated links from its items to what they articulate with.

CREATE TABLE plans (
    id uuid PRIMARY KEY,
    -- pme | pmi | pam | plan_normativo
    kind text NOT NULL,
    school_id uuid REFERENCES schools (id),
    organization_id uuid REFERENCES organizations (id),
    country text NOT NULL,
    -- The owner's territory: the plan's territorial scope.
    territory_path text NOT NULL,
    title text NOT NULL,
    period_from integer NOT NULL,
    period_to integer NOT NULL,
    phase text,
    -- The management catalogue whose dimensions and subdimensions (or areas and processes) the
    -- plan uses.
    catalogue_id uuid NOT NULL REFERENCES catalogues (id),
    -- A plan normativo's plan in the planes normativos catalogue.
    normative_item_id uuid REFERENCES catalogue_items (id),
    -- [{"item_id", "level", "note"}]
    self_assessment text NOT NULL DEFAULT '[]',
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((school_id IS NULL) <> (organization_id IS NULL)),
    CHECK (period_from <= period_to)
);
CREATE INDEX plans_school_idx ON plans (school_id, period_from);
CREATE INDEX plans_organization_idx ON plans (organization_id);
CREATE INDEX plans_territory_idx ON plans (territory_path);

-- One row per item of a plan's tree. Ids are stable across rewrites of the plan, so links can
-- name them; a rewrite deletes and inserts the rows in one transaction.
CREATE TABLE plan_items (
    id uuid PRIMARY KEY,
    plan_id uuid NOT NULL REFERENCES plans (id),
    parent_id uuid,
    -- objective | goal | strategy | action
    level text NOT NULL,
    ordinal integer NOT NULL,
    title text NOT NULL,
    -- An objective's dimension or área de gestión.
    catalogue_item_id uuid,
    -- A goal's indicator.
    indicator text,
    -- An action's dates, status and execution: what the gap report reads.
    starts_on text CHECK (starts_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    ends_on text CHECK (ends_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    status text,
    executed_percent integer CHECK (executed_percent BETWEEN 0 AND 100),
    -- The rest of the item's fields, as JSON.
    detail text NOT NULL DEFAULT '{}'
);
CREATE INDEX plan_items_plan_idx ON plan_items (plan_id, ordinal);

CREATE TABLE plan_links (
    id uuid PRIMARY KEY,
    plan_id uuid NOT NULL REFERENCES plans (id),
    item_id uuid NOT NULL,
    -- sello | plan_normativo | indicator | network_objective | agreement | improvement_cycle |
    -- supports
    link_type text NOT NULL,
    target_id uuid,
    -- An indicator's code, or a network objective's text.
    target_text text,
    valid_from text NOT NULL CHECK (valid_from ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    valid_to text CHECK (valid_to ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    note text,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX plan_links_plan_idx ON plan_links (plan_id, id);
CREATE INDEX plan_links_item_idx ON plan_links (item_id);
CREATE INDEX plan_links_target_idx ON plan_links (target_id);
