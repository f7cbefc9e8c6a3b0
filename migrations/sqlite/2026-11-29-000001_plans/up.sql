-- Plans: a school's PME (Chile) or PMI (Colombia), a Secretaría's PAM and a school's yearly
-- planes normativos share one shape: a plan, a tree of items (strategic objective -> goal ->
-- strategy -> action) and typed, dated links from its items to what they articulate with.

CREATE TABLE plans (
    id TEXT PRIMARY KEY NOT NULL,
    -- pme | pmi | pam | plan_normativo
    kind TEXT NOT NULL,
    school_id TEXT REFERENCES schools (id),
    organization_id TEXT REFERENCES organizations (id),
    country TEXT NOT NULL,
    -- The owner's territory: the plan's territorial scope.
    territory_path TEXT NOT NULL,
    title TEXT NOT NULL,
    period_from INTEGER NOT NULL,
    period_to INTEGER NOT NULL,
    phase TEXT,
    -- The management catalogue whose dimensions and subdimensions (or areas and processes) the
    -- plan uses.
    catalogue_id TEXT NOT NULL REFERENCES catalogues (id),
    -- A plan normativo's plan in the planes normativos catalogue.
    normative_item_id TEXT REFERENCES catalogue_items (id),
    -- [{"item_id", "level", "note"}]
    self_assessment TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((school_id IS NULL) <> (organization_id IS NULL)),
    CHECK (period_from <= period_to)
);
CREATE INDEX plans_school_idx ON plans (school_id, period_from);
CREATE INDEX plans_organization_idx ON plans (organization_id);
CREATE INDEX plans_territory_idx ON plans (territory_path);

-- One row per item of a plan's tree. Ids are stable across rewrites of the plan, so links can
-- name them; a rewrite deletes and inserts the rows in one transaction.
CREATE TABLE plan_items (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id),
    parent_id TEXT,
    -- objective | goal | strategy | action
    level TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    title TEXT NOT NULL,
    -- An objective's dimension or área de gestión.
    catalogue_item_id TEXT,
    -- A goal's indicator.
    indicator TEXT,
    -- An action's dates, status and execution: what the gap report reads.
    starts_on TEXT CHECK (starts_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    ends_on TEXT CHECK (ends_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status TEXT,
    executed_percent INTEGER CHECK (executed_percent BETWEEN 0 AND 100),
    -- The rest of the item's fields, as JSON.
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX plan_items_plan_idx ON plan_items (plan_id, ordinal);

CREATE TABLE plan_links (
    id TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans (id),
    item_id TEXT NOT NULL,
    -- sello | plan_normativo | indicator | network_objective | agreement | improvement_cycle |
    -- supports
    link_type TEXT NOT NULL,
    target_id TEXT,
    -- An indicator's code, or a network objective's text.
    target_text TEXT,
    valid_from TEXT NOT NULL CHECK (valid_from GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    valid_to TEXT CHECK (valid_to GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    note TEXT,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX plan_links_plan_idx ON plan_links (plan_id, id);
CREATE INDEX plan_links_item_idx ON plan_links (item_id);
CREATE INDEX plan_links_target_idx ON plan_links (target_id);
