-- 0002 (plain PostgreSQL): nothing to do; the tables of 0001 serve as they are. Kept as a file
-- so both modes apply the same numbered versions.
SELECT 1;
