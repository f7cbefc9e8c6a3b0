DROP TABLE mentoring_visits;
DROP TABLE improvement_cycles;
