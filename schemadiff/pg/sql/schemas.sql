-- Every schema that could be a tenant (system schemas never are).
SELECT nspname
FROM pg_catalog.pg_namespace
WHERE nspname !~ '^pg_'
  AND nspname <> 'information_schema'
