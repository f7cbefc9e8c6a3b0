-- The day an agreement was done, when known: on-time completion is then exact.
ALTER TABLE session_agreements ADD COLUMN done_on TEXT
    CHECK (done_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]');
