-- Management catalogues as versioned data: Chile's school-management model (one catalogue per
-- version), its planes normativos, Colombia's áreas de gestión. Built-in rows come from
-- catalog/management/catalogues.json at start; administrators may add items of their own.

CREATE TABLE catalogues (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    version TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL CHECK (country IN ('CL', 'CO')),
    valid_from INTEGER,
    valid_to INTEGER,
    source TEXT,
    UNIQUE (code, version)
);

CREATE TABLE catalogue_items (
    id TEXT PRIMARY KEY NOT NULL,
    catalogue_id TEXT NOT NULL REFERENCES catalogues (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_id TEXT REFERENCES catalogue_items (id),
    legal_basis TEXT,
    ordinal INTEGER NOT NULL,
    builtin BOOLEAN NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (catalogue_id, code)
);
CREATE INDEX catalogue_items_order_idx ON catalogue_items (catalogue_id, ordinal, id);
CREATE INDEX catalogue_items_parent_idx ON catalogue_items (parent_id);
