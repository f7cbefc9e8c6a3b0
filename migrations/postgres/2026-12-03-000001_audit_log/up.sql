-- The audit log: every write, by whom (principal, API client, request), and the fields it
-- changed (personal data masked). Inserted in the same transaction as the write it describes.

CREATE TABLE audit_log (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    -- The token's `sub`, or `cli` / `system` for writes made outside any request.
    principal text NOT NULL,
    client_id text,
    request_id text,
    resource text NOT NULL,
    -- Text, not uuid: some audited resources (API clients) have other ids.
    resource_id text NOT NULL,
    operation text NOT NULL CHECK (operation IN ('created', 'updated', 'deleted')),
    -- '' for resources outside the territory tree (read by principals of a whole country).
    territory_path text COLLATE "C" NOT NULL,
    previous_territory_path text COLLATE "C" NOT NULL DEFAULT '',
    -- {"field": {"before": …, "after": …}} as JSON text.
    changes text NOT NULL
);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, seq);
CREATE INDEX audit_log_principal_idx ON audit_log (principal, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);
