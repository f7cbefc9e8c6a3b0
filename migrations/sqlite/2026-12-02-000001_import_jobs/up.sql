-- Import jobs: an import of indicator values run in the background (`Prefer: respond-async`),
-- its state kept here so that any instance answers its status URL.

CREATE TABLE import_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    -- Who started it (`sub`) and the territory paths of the token, one per line: only the same
    -- subject, with those territories, reads the job.
    subject TEXT NOT NULL,
    territories TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- create | update | create_and_update | delete
    strategy TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    atomic BOOLEAN NOT NULL,
    -- Values (or unreadable rows) processed so far.
    values_read BIGINT NOT NULL DEFAULT 0,
    -- The ImportSummary as JSON, once succeeded.
    summary TEXT,
    -- Why it failed.
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    -- Written while the job runs (its heartbeat on PostgreSQL).
    updated_at TEXT NOT NULL
);
CREATE INDEX import_jobs_unfinished_idx ON import_jobs (status) WHERE status IN ('queued', 'running');
