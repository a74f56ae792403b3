-- Indexes that no constraint owns, with validity (a failed CONCURRENTLY build leaves INVALID)
-- and the columns each uses.
SELECT i.indrelid AS oid,
       ic.relname AS name,
       quote_ident(ic.relname) AS name_q,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       i.indisunique AS is_unique,
       i.indisvalid AS valid,
       ARRAY(SELECT a.attname  -- every column it uses: keys, INCLUDE, expressions, predicate
             FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = i.indexrelid
               AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = i.indrelid
               AND d.refobjsubid > 0) AS uses
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY(%(oids)s)
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_constraint con
        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
          AND con.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
