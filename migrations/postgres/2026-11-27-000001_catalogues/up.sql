-- Management catalogues as versioned data: Chile's school-management model (one catalogue per
-- version), its planes normativos, Colombia's áreas de gestión. Built-in rows come from
-- catalog/management/catalogues.json at start; administrators may add items of their own.

CREATE TABLE catalogues (
    id uuid PRIMARY KEY,
    code text NOT NULL,
    version text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    country text NOT NULL CHECK (country IN ('CL', 'CO')),
    valid_from integer,
    valid_to integer,
    source text,
    UNIQUE (code, version)
);

CREATE TABLE catalogue_items (
    id uuid PRIMARY KEY,
    catalogue_id uuid NOT NULL REFERENCES catalogues (id),
    code text NOT NULL,
    name text NOT NULL,
    level text NOT NULL,
    parent_id uuid REFERENCES catalogue_items (id),
    legal_basis text,
    ordinal integer NOT NULL,
    builtin boolean NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (catalogue_id, code)
);
CREATE INDEX catalogue_items_order_idx ON catalogue_items (catalogue_id, ordinal, id);
CREATE INDEX catalogue_items_parent_idx ON catalogue_items (parent_id);
