-- Primary key, unique, check, foreign key and exclusion constraints (not PG18's NOT NULL rows);
-- for a foreign key, the schema and name of the table it references; the columns each uses.
SELECT con.conrelid AS oid,
       con.conname AS name,
       con.contype AS kind,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       fn.nspname AS ref_schema,
       fc.relname AS ref_table,
       ARRAY(SELECT a.attname FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = con.conrelid AND a.attnum = ANY(con.conkey)) AS uses
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY(%(oids)s)
  AND con.contype IN ('p', 'u', 'c', 'f', 'x')
ORDER BY con.conrelid, con.conname
