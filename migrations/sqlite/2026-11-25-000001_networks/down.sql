DROP TABLE network_members;
DROP TABLE networks;
