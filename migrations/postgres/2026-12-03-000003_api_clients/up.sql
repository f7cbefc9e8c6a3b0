-- API clients: machine-to-machine credentials for `/oauth/token` (client credentials grant).
-- The secret is never stored: only its argon2id hash (PHC string).

CREATE TABLE api_clients (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    contact text,
    -- Scopes, separated by spaces.
    scopes text NOT NULL,
    -- Territory keys (`CL-09`, `CO-05001`), one per line.
    territories text NOT NULL,
    -- Sustained requests per second for this client's tokens; NULL: the service's default.
    rate_limit integer,
    active boolean NOT NULL,
    secret_hash text NOT NULL,
    -- The secret before the last rotation, accepted until `previous_secret_expires_at`.
    previous_secret_hash text,
    previous_secret_expires_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    rotated_at timestamptz,
    last_used_at timestamptz,
    -- Who created it (`sub` of the token, or `cli`).
    created_by text NOT NULL,
    -- Incremented by every change, for ETags.
    version bigint NOT NULL DEFAULT 1
);
CREATE INDEX api_clients_name_idx ON api_clients (name, id);
