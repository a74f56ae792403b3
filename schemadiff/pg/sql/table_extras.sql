-- What the catalog holds about the named tables of one schema beyond the model, which the spec
-- cannot say: triggers, policies, row level security, rules, storage parameters, inheritance,
-- tablespace, replica identity, access method, privileges, extended statistics, comments on
-- indexes and constraints, per-column storage, compression, statistics target, options and
-- privileges, VIRTUAL generated columns, identity sequences that cycle or cache. One row each.
WITH t AS (
    SELECT c.*
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
)
SELECT t.relname AS "table", 'trigger' AS kind, tg.tgname::text AS name,
       pg_catalog.pg_get_triggerdef(tg.oid) AS detail
FROM t JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
UNION ALL
SELECT t.relname, 'policy', p.polname::text,
       pg_catalog.concat_ws(' ',
           CASE WHEN NOT p.polpermissive THEN 'AS RESTRICTIVE' END,
           'FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                   WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
           'TO ' || (SELECT pg_catalog.string_agg(CASE WHEN r.oid = 0 THEN 'public'
                                                       ELSE pg_catalog.quote_ident(a.rolname) END, ', ')
                     FROM pg_catalog.unnest(p.polroles) AS r (oid)
                     LEFT JOIN pg_catalog.pg_roles a ON a.oid = r.oid),
           'USING (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')',
           'WITH CHECK (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')')
FROM t JOIN pg_catalog.pg_policy p ON p.polrelid = t.oid
UNION ALL
SELECT t.relname, 'row level security', NULL,
       CASE WHEN t.relforcerowsecurity THEN 'enabled and forced' ELSE 'enabled' END
FROM t WHERE t.relrowsecurity
UNION ALL
SELECT t.relname, 'storage parameters', NULL, pg_catalog.array_to_string(t.reloptions, ', ')
FROM t WHERE t.reloptions IS NOT NULL
UNION ALL
SELECT t.relname, 'rule', r.rulename::text, pg_catalog.pg_get_ruledef(r.oid)
FROM t JOIN pg_catalog.pg_rewrite r ON r.ev_class = t.oid AND r.rulename <> '_RETURN'
UNION ALL
SELECT t.relname, 'inherits from', NULL, i.inhparent::pg_catalog.regclass::text
FROM t JOIN pg_catalog.pg_inherits i ON i.inhrelid = t.oid
UNION ALL
SELECT t.relname, 'inherited by', NULL, i.inhrelid::pg_catalog.regclass::text
FROM t JOIN pg_catalog.pg_inherits i ON i.inhparent = t.oid
UNION ALL
SELECT t.relname, 'tablespace', NULL, s.spcname::text
FROM t JOIN pg_catalog.pg_tablespace s ON s.oid = t.reltablespace
UNION ALL
SELECT t.relname, 'replica identity', NULL,
       CASE t.relreplident WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing' ELSE 'using an index' END
FROM t WHERE t.relreplident <> 'd'
UNION ALL
SELECT t.relname, 'access method', NULL, am.amname::text
FROM t JOIN pg_catalog.pg_am am ON am.oid = t.relam AND am.amname <> 'heap'
UNION ALL
SELECT t.relname, 'privileges', NULL, pg_catalog.array_to_string(t.relacl, ', ')
FROM t WHERE t.relacl IS NOT NULL
UNION ALL
SELECT t.relname, 'extended statistics', s.stxname::text, pg_catalog.pg_get_statisticsobjdef(s.oid)
FROM t JOIN pg_catalog.pg_statistic_ext s ON s.stxrelid = t.oid
UNION ALL
SELECT t.relname, 'comment on index', ic.relname::text, d.description
FROM t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_description d
  ON d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
UNION ALL
SELECT t.relname, 'comment on constraint', con.conname::text, d.description
FROM t JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid
JOIN pg_catalog.pg_description d
  ON d.objoid = con.oid AND d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
UNION ALL
SELECT t.relname,
       CASE WHEN a.attgenerated = 'v' THEN 'virtual generated column' ELSE 'column' END,
       a.attname::text,
       NULLIF(pg_catalog.concat_ws(', ',
           CASE WHEN a.attstorage <> ty.typstorage THEN 'storage ' || CASE a.attstorage
                WHEN 'p' THEN 'plain' WHEN 'e' THEN 'external' WHEN 'm' THEN 'main' ELSE 'extended' END END,
           CASE WHEN a.attcompression <> '' THEN 'compression ' || CASE a.attcompression
                WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' ELSE a.attcompression::text END END,
           CASE WHEN COALESCE(a.attstattarget::integer, -1) >= 0 THEN 'statistics ' || a.attstattarget END,
           CASE WHEN a.attoptions IS NOT NULL THEN 'options ' || pg_catalog.array_to_string(a.attoptions, ', ') END,
           CASE WHEN a.attacl IS NOT NULL THEN 'privileges ' || pg_catalog.array_to_string(a.attacl, ', ') END,
           CASE WHEN a.attgenerated = 'v' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END), '')
FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attstorage <> ty.typstorage OR a.attcompression <> ''
   OR COALESCE(a.attstattarget::integer, -1) >= 0 OR a.attoptions IS NOT NULL OR a.attacl IS NOT NULL
   OR a.attgenerated = 'v'
UNION ALL
SELECT t.relname, 'identity sequence', a.attname::text,
       pg_catalog.concat_ws(', ', CASE WHEN s.seqcycle THEN 'CYCLE' END,
                            CASE WHEN s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END)
FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attidentity <> ''
JOIN pg_catalog.pg_depend dep
  ON dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.refobjid = t.oid
 AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.deptype = 'i'
JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
WHERE s.seqcycle OR s.seqcache <> 1
