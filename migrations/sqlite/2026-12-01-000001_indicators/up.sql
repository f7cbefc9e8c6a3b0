-- Indicators: definitions (the built-in ones from catalog/indicators/indicators.json, kept in
-- step at start) and values, each for an org unit (a territory, an organisation, a school or a
-- network), a period (an ISO-style code with its first and last days) and a disaggregation.

CREATE TABLE indicators (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_es TEXT NOT NULL,
    name_en TEXT NOT NULL,
    description TEXT,
    -- percent | count | rate | score | currency
    unit TEXT NOT NULL,
    -- number | integer
    value_type TEXT NOT NULL,
    -- sum | mean | ratio | min | max | last
    aggregation_territory TEXT NOT NULL,
    aggregation_time TEXT NOT NULL,
    -- {"numerator", "denominator", "factor"} or NULL
    formula TEXT,
    -- [{"code", "values"}]
    disaggregations TEXT NOT NULL DEFAULT '[]',
    periodicity TEXT NOT NULL,
    source TEXT,
    country TEXT,
    -- How an import file's columns map to it, or NULL.
    mapping TEXT,
    builtin BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE indicator_values (
    id TEXT PRIMARY KEY NOT NULL,
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    -- territory | organization | school | network
    org_unit_kind TEXT NOT NULL,
    org_unit_id TEXT NOT NULL,
    -- The org unit's territory: the value's territorial scope.
    territory_path TEXT NOT NULL,
    period TEXT NOT NULL,
    period_start TEXT NOT NULL CHECK (period_start GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    period_end TEXT NOT NULL CHECK (period_end GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- `level=primaria;sex=f`, categories sorted by code; '' for the total.
    disaggregation TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    numerator REAL,
    denominator REAL,
    source TEXT,
    comment TEXT,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (indicator_id, org_unit_id, period, disaggregation)
);
CREATE INDEX indicator_values_territory_idx ON indicator_values (territory_path);
CREATE INDEX indicator_values_period_idx ON indicator_values (indicator_id, period_start);
