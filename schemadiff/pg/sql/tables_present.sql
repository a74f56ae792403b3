-- Which of the named tables exist in at least one of the schemas.
SELECT DISTINCT c.relname AS name
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
  AND c.relname = ANY(%(tables)s)
  AND c.relkind IN ('r', 'p')
