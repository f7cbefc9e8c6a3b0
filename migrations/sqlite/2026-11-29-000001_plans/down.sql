DROP TABLE plan_links;
DROP TABLE plan_items;
DROP TABLE plans;
