-- Primary key, unique, check, foreign key and exclusion constraints (not PG18's NOT NULL rows).
SELECT con.conrelid AS oid,
       con.conname AS name,
       con.contype AS kind,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = ANY(%(oids)s)
  AND con.contype IN ('p', 'u', 'c', 'f', 'x')
ORDER BY con.conrelid, con.conname
