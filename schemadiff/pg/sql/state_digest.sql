-- The raw catalog rows behind everything introspection reads about the managed tables listed in
-- the CTE t (oid, relname, nspname) of the schemas in the CTE s (nspname), one text "fact" per row: names, attribute numbers, types,
-- flags and expression trees. A digest of a schema's facts holds more than its model does,
-- so two schemas with the same digest have the same model and fingerprint (the digest sums hashes of
-- the facts, see pg/digests.DIGEST; an expression tree, hundreds of characters, stands in its fact as
-- its md5: hashing it is cheaper than quoting and copying it); schemas whose rows
-- differ only where the model does not look (the parse locations inside expression trees, which
-- follow the text of the statement that made them) get different digests and are read in full
-- instead. Expression trees, types and collations name objects by OID, and the model names an object
-- of the tenant's own schema unqualified, any other qualified: so for each of them the facts say which
-- of the objects it refers to (its dependencies, ordered by OID) are the tenant's own. Two tenants
-- with the same OIDs and the same answers print the same text (a table cloned from another
-- tenant's, whose default draws from that tenant's sequence, is told apart from the original). An
-- OID of the tenant's own object (a serial's sequence in its default, a column of its own enum
-- type) makes each such tenant a digest of its own: correct, only not grouped. Objects below
-- 16384 are PostgreSQL's own (in pg_catalog), never a tenant's. The two placeholders in braces
-- stand for the columns later PostgreSQL versions added (NULLS NOT DISTINCT, NOT ENFORCED, …), filled in
-- for the server at hand by pg/digests.state_facts; a third one for how the defaults'
-- references are read: a lookup per default for one tenant, one pass over them all for many.
-- No deparsing and no dependence on the search_path: the runtime digests one tenant
-- (digests.state_digest) under a fixed search_path so that its prepared plan is reused for every
-- tenant (PostgreSQL re-plans a prepared query whenever the search_path changes, which cost
-- several milliseconds per tenant); the preflight digests every tenant at once and reads one
-- tenant of each digest in full (digests.read_by_digest), as plan, status and check do
-- (digests.read_grouped).
SELECT t.nspname, pg_catalog.concat_ws(' ', 't', pg_catalog.quote_nullable(t.relname),
                                       pg_catalog.quote_nullable(d.description),
                                       -- its kind: UNLOGGED, partitioned (by which key), a partition (of what)
                                       c.relkind::text, c.relpersistence::text,
                                       pg_catalog.quote_nullable(pc.relname),
                                       pg_catalog.quote_nullable((pc.relnamespace = c.relnamespace)::text),
                                       pg_catalog.quote_nullable(pg_catalog.md5(c.relpartbound::text)),
                                       pg_catalog.quote_nullable(pt.partstrat::text),
                                       pg_catalog.quote_nullable(pt.partattrs::text),
                                       pg_catalog.quote_nullable(pt.partclass::text),
                                       pg_catalog.quote_nullable(pt.partcollation::text),
                                       pg_catalog.quote_nullable(pg_catalog.md5(pt.partexprs::text)),
                                       pg_catalog.quote_nullable(CASE WHEN pt.partexprs IS NOT NULL
                                                                        OR 16384 <= ANY(pt.partclass::pg_catalog.oid[])
                                                                        OR 16384 <= ANY(pt.partcollation::pg_catalog.oid[]) THEN
                                           (SELECT pg_catalog.string_agg(pg_catalog.quote_nullable((pg_catalog.pg_identify_object(dp.refclassid, dp.refobjid, 0)).schema = t.nspname), ','
                                                                         ORDER BY dp.refclassid, dp.refobjid)
                                            FROM pg_catalog.pg_depend dp
                                            WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.objid = t.oid
                                              AND dp.objsubid = 0 AND dp.deptype = 'n') END)) AS fact
FROM t JOIN pg_catalog.pg_class c ON c.oid = t.oid
LEFT JOIN pg_catalog.pg_description d
     ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_inherits i ON i.inhrelid = t.oid
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
LEFT JOIN pg_catalog.pg_partitioned_table pt ON pt.partrelid = t.oid
UNION ALL
SELECT t.nspname,
       pg_catalog.concat_ws(' ', 'c', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(a.attname),
                            a.attnum::text, a.atttypid::text, a.atttypmod::text, a.attnotnull::text,
                            a.attcollation::text, pg_catalog.quote_nullable(a.attidentity::text),
                            pg_catalog.quote_nullable(a.attgenerated::text), pg_catalog.quote_nullable(pg_catalog.md5(ad.adbin::text)),
                            -- whether the objects its type, collation and default refer to by OID are the tenant's own
                            pg_catalog.quote_nullable(CASE WHEN a.atttypid >= 16384 OR a.attcollation >= 16384 THEN
                                (SELECT pg_catalog.string_agg(pg_catalog.quote_nullable((pg_catalog.pg_identify_object(dp.refclassid, dp.refobjid, 0)).schema = t.nspname), ','
                                                                  ORDER BY dp.refclassid, dp.refobjid)
                                     FROM pg_catalog.pg_depend dp
                                     WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.objid = t.oid
                                       AND dp.objsubid = a.attnum AND dp.deptype = 'n'
                                       AND NOT (dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.refobjid = t.oid)) END),
                            pg_catalog.quote_nullable(CASE WHEN adr.schemas IS NOT NULL THEN
                                (SELECT pg_catalog.string_agg(pg_catalog.quote_nullable(r.schema = t.nspname), ',' ORDER BY r.n)
                                 FROM pg_catalog.unnest(adr.schemas) WITH ORDINALITY AS r (schema, n)) END),
                            pg_catalog.quote_nullable(d.description), seq.seqstart::text, seq.seqincrement::text,
                            pg_catalog.quote_nullable(seq.relname))
FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
-- adr.schemas: the schemas of what the default refers to by OID (ordered by OID; PostgreSQL's own
-- objects are not recorded), {default_refs}
LEFT JOIN pg_catalog.pg_description d
     ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
LEFT JOIN LATERAL (  -- an identity's sequence: its options and its name
    SELECT s.seqstart, s.seqincrement, sc.relname
    FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
    JOIN pg_catalog.pg_class sc ON sc.oid = dep.objid
    WHERE a.attidentity <> '' AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum
      AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.deptype = 'i'
) seq ON true
UNION ALL
SELECT t.nspname,
       pg_catalog.concat_ws(' ', 'k', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(con.conname),
                            con.contype::text, con.condeferrable::text, con.condeferred::text, con.convalidated::text,
                            con.connoinherit::text, con.conkey::text, con.confkey::text, con.confupdtype::text,
                            con.confdeltype::text, con.confmatchtype::text, con.conexclop::text{constraint_flags},
                            pg_catalog.quote_nullable(fn.nspname = t.nspname),
                            pg_catalog.quote_nullable(CASE WHEN fn.nspname = t.nspname THEN '' ELSE fn.nspname END),
                            pg_catalog.quote_nullable(fc.relname),
                            -- the referenced columns by name: their numbers are another table's
                            pg_catalog.quote_nullable((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(fa.attname), ','
                                                                                    ORDER BY k.n)
                                                       FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k (attnum, n)
                                                       JOIN pg_catalog.pg_attribute fa
                                                         ON fa.attrelid = con.confrelid AND fa.attnum = k.attnum)),
                            pg_catalog.quote_nullable(pg_catalog.md5(con.conbin::text)),
                            pg_catalog.quote_nullable(CASE WHEN con.conbin IS NOT NULL THEN
                                (SELECT pg_catalog.string_agg(pg_catalog.quote_nullable((pg_catalog.pg_identify_object(dp.refclassid, dp.refobjid, 0)).schema = t.nspname), ','
                                                                  ORDER BY dp.refclassid, dp.refobjid)
                                     FROM pg_catalog.pg_depend dp
                                     WHERE dp.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND dp.objid = con.oid
                                       AND dp.objsubid = 0 AND dp.deptype = 'n'
                                       AND NOT (dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.refobjid = t.oid)) END))
FROM t JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u', 'c', 'f', 'x')
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
UNION ALL
SELECT t.nspname,
       pg_catalog.concat_ws(' ', 'i', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(ic.relname),
                            ic.relam::text, pg_catalog.quote_nullable(ic.reloptions::text),
                            i.indisunique::text, i.indisprimary::text, i.indisvalid::text, i.indimmediate::text,
                            i.indnatts::text, i.indnkeyatts::text, i.indkey::text, i.indclass::text,
                            i.indcollation::text, i.indoption::text{index_flags},
                            pg_catalog.quote_nullable(pg_catalog.md5(i.indexprs::text)), pg_catalog.quote_nullable(pg_catalog.md5(i.indpred::text)),
                            pg_catalog.quote_nullable(CASE WHEN i.indexprs IS NOT NULL OR i.indpred IS NOT NULL
                                                             OR 16384 <= ANY(i.indclass::pg_catalog.oid[])
                                                             OR 16384 <= ANY(i.indcollation::pg_catalog.oid[]) THEN
                                (SELECT pg_catalog.string_agg(pg_catalog.quote_nullable((pg_catalog.pg_identify_object(dp.refclassid, dp.refobjid, 0)).schema = t.nspname), ','
                                                                  ORDER BY dp.refclassid, dp.refobjid)
                                     FROM pg_catalog.pg_depend dp
                                     WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.objid = i.indexrelid
                                       AND dp.objsubid = 0 AND dp.deptype = 'n'
                                       AND NOT (dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.refobjid = t.oid)) END))
FROM t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
UNION ALL
-- every enum type of the schemas listed in the CTE s (nspname), with its labels in order: a schema
-- holding no managed table has its enum types digested too. The types are found through the
-- schema's own dependency rows (every type depends on its namespace), an index scan: pg_type has no
-- index on typnamespace, and scanning it whole for each tenant grows with the number of tenants
SELECT n.nspname,
       pg_catalog.concat_ws(' ', 'e', pg_catalog.quote_nullable(ty.typname),
                            pg_catalog.quote_nullable((SELECT pg_catalog.array_agg(e.enumlabel ORDER BY e.enumsortorder)::text
                                                       FROM pg_catalog.pg_enum e WHERE e.enumtypid = ty.oid)))
FROM s JOIN pg_catalog.pg_namespace n ON n.nspname = s.nspname
JOIN pg_catalog.pg_depend dep
  ON dep.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND dep.refobjid = n.oid
 AND dep.refobjsubid = 0 AND dep.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
JOIN pg_catalog.pg_type ty ON ty.oid = dep.objid AND ty.typtype = 'e'
