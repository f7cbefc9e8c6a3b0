-- The audit log: every write, by whom (principal, API client, request), and the fields it
-- changed (personal data masked). Inserted in the same transaction as the write it describes.

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    -- The token's `sub`, or `cli` / `system` for writes made outside any request.
    principal TEXT NOT NULL,
    client_id TEXT,
    request_id TEXT,
    resource TEXT NOT NULL,
    -- Text: some audited resources (API clients) have ids that are not UUIDs.
    resource_id TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('created', 'updated', 'deleted')),
    -- '' for resources outside the territory tree (read by principals of a whole country).
    territory_path TEXT NOT NULL,
    previous_territory_path TEXT NOT NULL DEFAULT '',
    -- {"field": {"before": …, "after": …}} as JSON text.
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, seq);
CREATE INDEX audit_log_principal_idx ON audit_log (principal, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);
