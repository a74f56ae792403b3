-- A digest of the raw catalog rows behind everything introspection reads about the managed tables
-- of one schema: names, types, flags, and expression trees with their parse locations cut. It
-- holds more than the model does, so two tenants with the same digest have the same model and
-- fingerprint (tenants whose rows differ only where the model does not look are fingerprinted in
-- full instead). No deparsing and no dependence on the search_path: the runtime runs it under a
-- fixed search_path so that its prepared plan is reused for every tenant (PostgreSQL re-plans a
-- prepared query whenever the search_path changes, which cost several milliseconds per tenant).
WITH t AS (
    SELECT c.oid, c.relname
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.quote_ident($1))
      AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')
), facts AS (
    SELECT pg_catalog.concat_ws(' ', 't', pg_catalog.quote_nullable(t.relname),
                                pg_catalog.quote_nullable(d.description)) AS fact
    FROM t LEFT JOIN pg_catalog.pg_description d
         ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
    UNION ALL
    SELECT pg_catalog.concat_ws(' ', 'c', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(a.attname),
                                a.atttypid::text, a.atttypmod::text, a.attnotnull::text, a.attcollation::text,
                                pg_catalog.quote_nullable(a.attidentity::text), pg_catalog.quote_nullable(a.attgenerated::text),
                                pg_catalog.quote_nullable(pg_catalog.regexp_replace(ad.adbin::text, ' :location -?[0-9]+', '', 'g')),
                                pg_catalog.quote_nullable(d.description))
    FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    LEFT JOIN pg_catalog.pg_description d
         ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
    UNION ALL
    SELECT pg_catalog.concat_ws(' ', 'k', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(con.conname),
                                con.contype::text, con.condeferrable::text, con.condeferred::text, con.convalidated::text,
                                con.conkey::text, con.confkey::text, con.confupdtype::text, con.confdeltype::text,
                                con.confmatchtype::text, con.conexclop::text,
                                pg_catalog.quote_nullable(fn.nspname = $1),
                                pg_catalog.quote_nullable(CASE WHEN fn.nspname = $1 THEN '' ELSE fn.nspname END),
                                pg_catalog.quote_nullable(fc.relname),
                                pg_catalog.quote_nullable(pg_catalog.regexp_replace(con.conbin::text, ' :location -?[0-9]+', '', 'g')))
    FROM t JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u', 'c', 'f', 'x')
    LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
    LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
    UNION ALL
    SELECT pg_catalog.concat_ws(' ', 'i', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(ic.relname),
                                ic.relam::text, pg_catalog.quote_nullable(ic.reloptions::text),
                                i.indisunique::text, i.indisprimary::text, i.indisvalid::text, i.indimmediate::text,
                                i.indnatts::text, i.indnkeyatts::text, i.indkey::text, i.indclass::text,
                                i.indcollation::text, i.indoption::text,
                                pg_catalog.quote_nullable(pg_catalog.regexp_replace(i.indexprs::text, ' :location -?[0-9]+', '', 'g')),
                                pg_catalog.quote_nullable(pg_catalog.regexp_replace(i.indpred::text, ' :location -?[0-9]+', '', 'g')))
    FROM t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
)
SELECT pg_catalog.md5(coalesce(pg_catalog.string_agg(fact, E'\n' ORDER BY fact), ''))
FROM facts
