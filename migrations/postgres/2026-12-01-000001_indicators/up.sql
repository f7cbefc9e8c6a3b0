-- Indicators: definitions (the built-in ones from catalog/indicators/indicators.json, kept in
-- step at start) and values, each for an org unit (a territory, an organisation, a school or a
-- network), a period (an ISO-style code with its first and last days) and a disaggregation.

CREATE TABLE indicators (
    id uuid PRIMARY KEY,
    code text NOT NULL UNIQUE,
    name_es text NOT NULL,
    name_en text NOT NULL,
    description text,
    -- percent | count | rate | score | currency
    unit text NOT NULL,
    -- number | integer
    value_type text NOT NULL,
    -- sum | mean | ratio | min | max | last
    aggregation_territory text NOT NULL,
    aggregation_time text NOT NULL,
    -- {"numerator", "denominator", "factor"} or NULL
    formula text,
    -- [{"code", "values"}]
    disaggregations text NOT NULL DEFAULT '[]',
    periodicity text NOT NULL,
    source text,
    country text,
    -- How an import file's columns map to it, or NULL.
    mapping text,
    builtin boolean NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE indicator_values (
    id uuid PRIMARY KEY,
    indicator_id uuid NOT NULL REFERENCES indicators (id),
    -- territory | organization | school | network
    org_unit_kind text NOT NULL,
    org_unit_id uuid NOT NULL,
    -- The org unit's territory: the value's territorial scope.
    territory_path text NOT NULL,
    period text NOT NULL,
    period_start text NOT NULL CHECK (period_start ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    period_end text NOT NULL CHECK (period_end ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    -- `level=primaria;sex=f`, categories sorted by code; '' for the total.
    disaggregation text NOT NULL DEFAULT '',
    value double precision NOT NULL,
    numerator double precision,
    denominator double precision,
    source text,
    comment text,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (indicator_id, org_unit_id, period, disaggregation)
);
CREATE INDEX indicator_values_territory_idx ON indicator_values (territory_path);
CREATE INDEX indicator_values_period_idx ON indicator_values (indicator_id, period_start);
