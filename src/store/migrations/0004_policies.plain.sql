-- 0004 (plain PostgreSQL): no compression or retention jobs; `nengtan db prune-dlq` is the
-- manual equivalent of the dead-letter retention (docs/storage.md).
SELECT 1;
