DROP TABLE reference_data;
DROP TABLE territories;
