-- The managed tables of every tenant schema (and the partitions the spec names), one row per table:
-- UNLOGGED or not; for a partitioned table its key (pg_get_partkeydef reads the catalog, it opens no
-- relation); for a partition its parent and bound (pg_get_expr with relid 0: a bound holds constants
-- only, so no relation is opened and no lock waited for); size estimates, a partitioned table's the
-- sum of its leaf partitions' (found through pg_inherits: pg_partition_tree would lock them).
SELECT c.oid,
       n.nspname AS schema,
       quote_ident(n.nspname) AS schema_q,
       c.relname AS name,
       quote_ident(c.relname) AS name_q,
       d.description AS comment,
       CASE WHEN c.relkind <> 'p' THEN greatest(c.reltuples, 0)
            ELSE (WITH RECURSIVE tree (oid, relkind, reltuples) AS (
                      SELECT k.oid, k.relkind, k.reltuples FROM pg_catalog.pg_inherits h
                      JOIN pg_catalog.pg_class k ON k.oid = h.inhrelid WHERE h.inhparent = c.oid
                      UNION ALL
                      SELECT k.oid, k.relkind, k.reltuples FROM tree
                      JOIN pg_catalog.pg_inherits h ON h.inhparent = tree.oid
                      JOIN pg_catalog.pg_class k ON k.oid = h.inhrelid)
                  SELECT coalesce(sum(greatest(tree.reltuples, 0)), 0) FROM tree WHERE tree.relkind <> 'p')
       END::bigint AS rows,
       c.relpersistence = 'u' AS unlogged,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_by,
       c.relispartition AS is_partition,
       CASE WHEN parent.relnamespace = c.relnamespace THEN parent.relname END AS parent,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, 0) END AS bound
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_catalog.pg_class parent ON parent.oid = i.inhparent
WHERE n.nspname = ANY(%(schemas)s)
  AND c.relname = ANY(%(tables)s)
  AND c.relkind IN ('r', 'p')
