-- The enum types the spec names, in every tenant schema, with their labels in sort order.
SELECT n.nspname AS schema,
       t.typname AS name,
       coalesce(array_agg(e.enumlabel ORDER BY e.enumsortorder) FILTER (WHERE e.enumlabel IS NOT NULL),
                '{}'::name[]) AS labels
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY(%(schemas)s)
  AND t.typname = ANY(%(enums)s)
  AND t.typtype = 'e'
GROUP BY n.nspname, t.typname
