-- The day an agreement was done, when known: on-time completion is then exact.
ALTER TABLE session_agreements ADD COLUMN done_on text
    CHECK (done_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$');
