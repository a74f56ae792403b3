-- The row estimates of the managed tables (and the partitions the spec names) that hold at least
-- min_rows rows, in any schema (the caller keeps its tenants'), as tables.sql reads them (a
-- partitioned table's the sum of its leaf partitions'), without reading anything else: one narrow
-- row per table, for planning many tenants (pg/digests.table_rows).
SELECT n.nspname, c.relname, r.rows
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT CASE WHEN c.relkind <> 'p' THEN greatest(c.reltuples, 0)
                ELSE (WITH RECURSIVE tree (oid, relkind, reltuples) AS (
                          SELECT k.oid, k.relkind, k.reltuples FROM pg_catalog.pg_inherits h
                          JOIN pg_catalog.pg_class k ON k.oid = h.inhrelid WHERE h.inhparent = c.oid
                          UNION ALL
                          SELECT k.oid, k.relkind, k.reltuples FROM tree
                          JOIN pg_catalog.pg_inherits h ON h.inhparent = tree.oid
                          JOIN pg_catalog.pg_class k ON k.oid = h.inhrelid)
                      SELECT coalesce(sum(greatest(tree.reltuples, 0)), 0) FROM tree WHERE tree.relkind <> 'p')
           END::bigint AS rows
) r
WHERE c.relname = ANY(%(tables)s)
  AND c.relkind IN ('r', 'p')
  AND r.rows >= %(min_rows)s
