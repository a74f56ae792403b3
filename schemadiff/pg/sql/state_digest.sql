-- The raw catalog rows behind everything introspection reads about the managed tables listed in
-- the CTE t (oid, relname, nspname) of the schemas in the CTE s (nspname), one text "fact" per row: names, attribute numbers, types,
-- flags and expression trees. A digest of a schema's sorted facts holds more than its model does,
-- so two schemas with the same digest have the same model and fingerprint; schemas whose rows
-- differ only where the model does not look (the parse locations inside expression trees, which
-- follow the text of the statement that made them) get different digests and are read in full
-- instead. The two placeholders in braces stand for the columns later PostgreSQL versions added
-- (NULLS NOT DISTINCT, NOT ENFORCED, …), filled in for the server at hand by runtime/tenant_phases.state_facts.
-- No deparsing and no dependence on the search_path: the runtime digests one tenant
-- (tenant_phases.state_digest) under a fixed search_path so that its prepared plan is reused for every
-- tenant (PostgreSQL re-plans a prepared query whenever the search_path changes, which cost
-- several milliseconds per tenant); the preflight digests every tenant at once and reads one
-- tenant of each digest in full (execute.read_states).
SELECT t.nspname, pg_catalog.concat_ws(' ', 't', pg_catalog.quote_nullable(t.relname),
                                       pg_catalog.quote_nullable(d.description)) AS fact
FROM t LEFT JOIN pg_catalog.pg_description d
     ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
UNION ALL
SELECT t.nspname,
       pg_catalog.concat_ws(' ', 'c', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(a.attname),
                            a.attnum::text, a.atttypid::text, a.atttypmod::text, a.attnotnull::text,
                            a.attcollation::text, pg_catalog.quote_nullable(a.attidentity::text),
                            pg_catalog.quote_nullable(a.attgenerated::text), pg_catalog.quote_nullable(ad.adbin::text),
                            pg_catalog.quote_nullable(d.description), seq.seqstart::text, seq.seqincrement::text)
FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description d
     ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
LEFT JOIN LATERAL (  -- an identity's sequence options
    SELECT s.seqstart, s.seqincrement
    FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_sequence s ON s.seqrelid = dep.objid
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
                            pg_catalog.quote_nullable(con.conbin::text))
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
                            pg_catalog.quote_nullable(i.indexprs::text), pg_catalog.quote_nullable(i.indpred::text))
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
