DROP TABLE change_journal;
DROP TABLE schools;
DROP TABLE organizations;
