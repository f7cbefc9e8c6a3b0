ALTER TABLE session_agreements DROP COLUMN done_on;
