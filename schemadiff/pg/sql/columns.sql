-- Every live column of the managed tables, in physical order; its collation where not its type's;
-- for an identity column, its sequence's name, start and increment (pg_sequence, through the internal
-- dependency of the sequence).
-- pg_get_expr(expr, relid) opens the relation (and so waits behind an ACCESS EXCLUSIVE lock);
-- a plain default holds no column references, so it is deparsed with relid 0, lock-free.
SELECT a.attrelid AS oid,
       a.attname AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = ''
            THEN pg_catalog.pg_get_expr(ad.adbin, 0)
            ELSE pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END AS default,
       a.attidentity AS identity,
       seq.seqstart AS identity_start,
       seq.seqincrement AS identity_increment,
       seq.relname AS identity_sequence,
       a.attgenerated AS generated,
       d.description AS comment,
       co.collname AS collation
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
LEFT JOIN LATERAL (
    SELECT s.seqstart, s.seqincrement, sc.relname
    FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
    JOIN pg_catalog.pg_class sc ON sc.oid = dep.objid
    WHERE a.attidentity <> '' AND dep.refclassid = 'pg_catalog.pg_class'::regclass
      AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
      AND dep.classid = 'pg_catalog.pg_class'::regclass AND dep.deptype = 'i'
) seq ON true
WHERE a.attrelid = ANY(%(oids)s)
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
