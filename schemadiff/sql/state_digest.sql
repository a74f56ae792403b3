-- A digest of every catalog fact introspection reads about the managed tables of the first schema
-- of the search_path (the tenant's own names print unqualified there; an index definition's
-- "ON schema.table" is printed qualified, so that one prefix is cut). Two tenants with the same
-- digest have the same raw facts, so the same model and fingerprint; run inside a tenant's
-- transaction it costs no extra round trip, and only a digest never seen before is fingerprinted.
WITH t AS (
    SELECT c.oid, c.relname
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())
      AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
), facts AS (
    SELECT pg_catalog.concat_ws(' ', 't', pg_catalog.quote_nullable(t.relname),
                                pg_catalog.quote_nullable(pg_catalog.obj_description(t.oid, 'pg_class'))) AS fact
    FROM t
    UNION ALL
    SELECT pg_catalog.concat_ws(' ', 'c', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(a.attname),
                                pg_catalog.quote_nullable(pg_catalog.format_type(a.atttypid, a.atttypmod)),
                                a.attnotnull::text, pg_catalog.quote_nullable(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)),
                                pg_catalog.quote_nullable(a.attidentity::text), pg_catalog.quote_nullable(a.attgenerated::text),
                                pg_catalog.quote_nullable(pg_catalog.col_description(t.oid, a.attnum)))
    FROM t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    UNION ALL
    SELECT pg_catalog.concat_ws(' ', 'k', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(con.conname),
                                con.contype::text, pg_catalog.quote_nullable(pg_catalog.pg_get_constraintdef(con.oid)))
    FROM t JOIN pg_catalog.pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u', 'c', 'f', 'x')
    UNION ALL
    SELECT pg_catalog.concat_ws(' ', 'i', pg_catalog.quote_nullable(t.relname), pg_catalog.quote_nullable(ic.relname),
                                pg_catalog.quote_nullable(pg_catalog.replace(pg_catalog.pg_get_indexdef(i.indexrelid),
                                    ' ON ' || pg_catalog.quote_ident(pg_catalog.current_schema()) || '.', ' ON ')),
                                i.indisunique::text, i.indisvalid::text)
    FROM t JOIN pg_catalog.pg_index i ON i.indrelid = t.oid
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
)
SELECT pg_catalog.md5(coalesce(pg_catalog.string_agg(fact, E'\n' ORDER BY fact), ''))
FROM facts
