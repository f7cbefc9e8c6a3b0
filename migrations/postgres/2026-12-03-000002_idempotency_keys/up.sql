-- Idempotency keys: the first response to a POST sent with `Idempotency-Key`, kept for 24 hours
-- so that a retry with the same key and body gets it again instead of writing twice.

CREATE TABLE idempotency_keys (
    -- The caller: the token's `client_id` when it has one, else its `sub`.
    owner text NOT NULL,
    -- The key as the client sent it (1-255 visible ASCII characters).
    key text NOT NULL,
    -- SHA-256 (hex) of the method, path with query, and body of the first request.
    fingerprint text NOT NULL,
    -- `running` while the first request is being served, `done` once its response is stored.
    state text NOT NULL CHECK (state IN ('running', 'done')),
    -- The stored response (state `done`): status, the headers worth replaying as a JSON array
    -- of [name, value] pairs, and the body.
    status integer,
    headers text,
    body bytea,
    -- When the key was claimed (a `running` claim much older than a request can last is
    -- abandoned), and when it may be forgotten.
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
