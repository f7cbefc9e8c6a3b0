-- Idempotency keys: the first response to a POST sent with `Idempotency-Key`, kept for 24 hours
-- so that a retry with the same key and body gets it again instead of writing twice.

CREATE TABLE idempotency_keys (
    -- The caller: the token's `client_id` when it has one, else its `sub`.
    owner TEXT NOT NULL,
    -- The key as the client sent it (1-255 visible ASCII characters).
    key TEXT NOT NULL,
    -- SHA-256 (hex) of the method, path with query, and body of the first request.
    fingerprint TEXT NOT NULL,
    -- `running` while the first request is being served, `done` once its response is stored.
    state TEXT NOT NULL CHECK (state IN ('running', 'done')),
    -- The stored response (state `done`): status, the headers worth replaying as a JSON array
    -- of [name, value] pairs, and the body.
    status INTEGER,
    headers TEXT,
    body BLOB,
    -- When the key was claimed (a `running` claim much older than a request can last is
    -- abandoned), and when it may be forgotten.
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
