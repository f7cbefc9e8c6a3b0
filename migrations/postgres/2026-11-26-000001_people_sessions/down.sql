DROP TABLE session_agreements;
DROP TABLE session_participant_counts;
DROP TABLE session_attendance;
DROP TABLE sessions;
DELETE FROM network_members WHERE person_id IS NOT NULL;
DROP INDEX network_members_person_idx;
ALTER TABLE network_members DROP CONSTRAINT network_members_one_member;
ALTER TABLE network_members DROP COLUMN person_id;
ALTER TABLE network_members ADD CONSTRAINT network_members_check
    CHECK ((school_id IS NULL) <> (organization_id IS NULL));
DROP TABLE person_affiliations;
DROP TABLE people;
