-- The managed tables of every tenant schema, with size estimates (one row per table).
SELECT c.oid,
       n.nspname AS schema,
       quote_ident(n.nspname) AS schema_q,
       c.relname AS name,
       quote_ident(c.relname) AS name_q,
       d.description AS comment,
       greatest(c.reltuples, 0)::bigint AS rows,
       CASE WHEN c.relkind = 'p' THEN 'partitioned'
            WHEN c.relispartition THEN 'a partition'
            WHEN c.relpersistence = 'u' THEN 'UNLOGGED' END AS unplannable
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname = ANY(%(schemas)s)
  AND c.relname = ANY(%(tables)s)
  AND c.relkind IN ('r', 'p')
