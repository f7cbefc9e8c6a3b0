-- Import jobs: an import of indicator values run in the background (`Prefer: respond-async`),
-- its state kept here so that any instance answers its status URL.

CREATE TABLE import_jobs (
    id uuid PRIMARY KEY,
    -- Who started it (`sub`) and the territory paths of the token, one per line: only the same
    -- subject, with those territories, reads the job.
    subject text NOT NULL,
    territories text NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- create | update | create_and_update | delete
    strategy text NOT NULL,
    dry_run boolean NOT NULL,
    atomic boolean NOT NULL,
    -- Values (or unreadable rows) processed so far.
    values_read bigint NOT NULL DEFAULT 0,
    -- The ImportSummary as JSON, once succeeded.
    summary text,
    -- Why it failed.
    error text,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    -- Written while the job runs (its heartbeat on PostgreSQL).
    updated_at timestamptz NOT NULL
);
CREATE INDEX import_jobs_unfinished_idx ON import_jobs (status) WHERE status IN ('queued', 'running');
