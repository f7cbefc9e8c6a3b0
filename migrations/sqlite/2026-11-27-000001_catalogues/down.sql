DROP TABLE catalogue_items;
DROP TABLE catalogues;
DELETE FROM reference_data WHERE name = 'management-catalogues';
