DROP TABLE pei_sellos;
DROP TABLE pei_revisions;
