-- For each (source, target) pair of format_type spellings: whether ALTER COLUMN … TYPE needs no
-- USING clause, i.e. the types are the same (a length coercion), the target is a string type (the
-- automatic I/O conversion), or an implicit or assignment cast exists; arrays by their elements.
-- A name this session cannot resolve (a type of the tenant's own schema) is left out: not judged.
WITH p AS (
    SELECT p.source, p.target, st.oid AS s, tt.oid AS t,
           st.typcategory = 'A' AND tt.typcategory = 'A' AS arrays, st.typelem, tt.typelem AS t_elem
    FROM unnest(%(sources)s::text[], %(targets)s::text[]) AS p (source, target)
    JOIN pg_catalog.pg_type st ON st.oid = pg_catalog.to_regtype(p.source)
    JOIN pg_catalog.pg_type tt ON tt.oid = pg_catalog.to_regtype(p.target)
), e AS (
    SELECT p.source, p.target,
           CASE WHEN p.arrays THEN p.typelem ELSE p.s END AS s,
           CASE WHEN p.arrays THEN p.t_elem ELSE p.t END AS t
    FROM p
)
SELECT e.source, e.target,
       e.s = e.t
       OR tt.typcategory = 'S'
       OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
                  WHERE c.castsource = e.s AND c.casttarget = e.t AND c.castcontext IN ('a', 'i')) AS implicit
FROM e
JOIN pg_catalog.pg_type tt ON tt.oid = e.t
