-- API clients: machine-to-machine credentials for `/oauth/token` (client credentials grant).
-- The secret is never stored: only its argon2id hash (PHC string).

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    contact TEXT,
    -- Scopes, separated by spaces.
    scopes TEXT NOT NULL,
    -- Territory keys (`CL-09`, `CO-05001`), one per line.
    territories TEXT NOT NULL,
    -- Sustained requests per second for this client's tokens; NULL: the service's default.
    rate_limit INTEGER,
    active BOOLEAN NOT NULL,
    secret_hash TEXT NOT NULL,
    -- The secret before the last rotation, accepted until `previous_secret_expires_at`.
    previous_secret_hash TEXT,
    previous_secret_expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rotated_at TEXT,
    last_used_at TEXT,
    -- Who created it (`sub` of the token, or `cli`).
    created_by TEXT NOT NULL,
    -- Incremented by every change, for ETags.
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX api_clients_name_idx ON api_clients (name, id);
