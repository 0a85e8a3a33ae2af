SELECT 1
--- next ---
select 1;
--- next ---
SELECT * FROM t WHERE id = 42
--- next ---
SELECT * FROM "T" WHERE "Id" = 42
--- next ---
SeLeCt Foo, "Foo", "foo", FOO FROM Bar
--- next ---
SELECT 'it''s', 'a' || 'b', '', ' spaced  text '
--- next ---
SELECT E'line\nbreak', E'quote\'s', e'tab\t', E'\\'
--- next ---
SELECT $$dollar 'quoted' "text"$$, $tag$ nested $$ inside $tag$, $a$$a$
--- next ---
SELECT $body$
multi
line
$body$
--- next ---
SELECT B'1010', b'0', X'DEADbeef', x'00'
--- next ---
SELECT 1, -1, 1.5, .5, 5., 1e10, 1.5E-3, 0x1F
--- next ---
SELECT 9999999999999999999999999999, 00012, 1_000
--- next ---
SELECT U&'d\0061t\+000061', U&"d\0061t"
--- next ---
SELECT U&'d!0061t' UESCAPE '!'
--- next ---
SELECT N'national', n'lower'
--- next ---
SELECT 'continued'
'on next line'
--- next ---
SELECT 'continued'   -- with a comment
  'after comment'
--- next ---
SELECT 'not' /* c */ 'continued'
--- next ---
SELECT /* block /* nested */ comment */ 1
--- next ---
-- leading comment
SELECT 1 -- trailing comment
--- next ---
SELECT	1
	FROM	t
--- next ---
SELECT 1;;
--- next ---
;SELECT 1
--- next ---
SELECT 1; SELECT 2
--- next ---
DELETE FROM t; DELETE FROM o WHERE id = 1; ; UPDATE t SET x = 2
--- next ---
SELECT $1, $2::int, $10
--- next ---
SELECT a::text, CAST(b AS int), c::"MyType"
--- next ---
SELECT a->>'k', a #> '{x,y}', a @> '{}', a <-> b, a !~~* b, ~x, |/ 9, @ -5
--- next ---
SELECT 1+-2, 3*-4, 5 - -6, a-/**/b, c--d
--- next ---
SELECT "Ünïcødé", ünïcødé, ÜNÏCØDÉ FROM "表" WHERE 名前 = '値'
--- next ---
SELECT 'emoji 😀', "😀"
--- next ---
SELECT * FROM t WHERE name LIKE '%Ä%' ESCAPE '\'
--- next ---
INSERT INTO t (id, note) VALUES (1, 'a'), (2, NULL), (3, DEFAULT) RETURNING *
--- next ---
UPDATE t SET x = x + 1, note = 'Updated' WHERE id IN (1, 2, 3)
--- next ---
DELETE FROM t USING o WHERE t.id = o.tid AND o.x > 10
--- next ---
MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET x = s.x WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)
--- next ---
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r
--- next ---
CREATE TABLE "Mixed"."Case" (Id SERIAL PRIMARY KEY, "Name" TEXT NOT NULL DEFAULT 'x')
--- next ---
CREATE FUNCTION f(a int) RETURNS int LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN a * 2; -- double
END
$fn$
--- next ---
DO $$ BEGIN RAISE NOTICE 'hi %', 1; END $$
--- next ---
DO $do$ BEGIN EXECUTE 'DROP TABLE x'; END $do$ LANGUAGE plpgsql
--- next ---
COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER true)
--- next ---
EXPLAIN (ANALYZE, BUFFERS) SELECT 1
--- next ---
SELECT ARRAY[1,2,3][1:2], '{1,2}'::int[], ROW(1, 'a')
--- next ---
SELECT interval '1 day', timestamp '2020-01-01 00:00', date '2020-02-29', time with time zone '10:00+02'
--- next ---
SELECT TRUE, false, NULL, Null, unknown IS NULL
--- next ---
SELECT x FROM t ORDER BY x DESC NULLS LAST LIMIT 10 OFFSET 5
--- next ---
SELECT count(*) FILTER (WHERE x > 1) OVER (PARTITION BY y ORDER BY z ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t
--- next ---
SELECT CASE WHEN a THEN 'y' ELSE 'n' END, COALESCE(a, b), NULLIF(a, b), GREATEST(1, 2)
--- next ---
SELECT * FROM a NATURAL JOIN b LEFT JOIN c USING (id) CROSS JOIN LATERAL f(a.x) AS g(y)
--- next ---
GRANT SELECT ON ALL TABLES IN SCHEMA public TO "Reader"
--- next ---
ALTER TABLE t ADD CONSTRAINT c CHECK (x > 0) NOT VALID
--- next ---
SET search_path = "$user", public
--- next ---
SET agent_guard.approval_token = 'abc123'
--- next ---
/* only a comment */
--- next ---
SELECT 'a' -- comment with 'quote'
--- next ---
SELECT "quoted ""inner"" ident", 'quoted ''inner'' literal'
--- next ---
SELECT 'tab	inside', 'crlf
inside'
--- next ---
SELECT 1 AS "select", 2 AS "SELECT", 3 AS Select_
--- next ---
select  *  from  T  where  X  =  'Value'  and  Y  =  "Value"
--- next ---
SELECT 1::numeric(10,2), 1.50::numeric, '1.5'::numeric
--- next ---
VALUES (1, 'one'), (2, 'two')
--- next ---
TABLE t
--- next ---
PREPARE p(int) AS SELECT * FROM t WHERE id = $1; EXECUTE p(1); DEALLOCATE p
--- next ---
CREATE RULE r AS ON DELETE TO t DO INSTEAD (SELECT 1; SELECT 2)
--- next ---
SELECT $_$underscore tag$_$, $x1$digit tag$x1$
--- next ---
SELECT 'back\slash', E'back\\slash', E'\x41\101\u0041'
--- next ---
SELECT a.b.c.d, a."B".c, "a".b
--- next ---
SELECT * FROM ONLY t*
--- next ---
SELECT 1 WHERE 1 <> 2 AND 2 != 3 AND 3 >= 2 AND 2 <= 3
--- next ---
SELECT :'psql_var', :psql_var
--- next ---
SELECT ?
--- next ---
SELECT x FROM t WHERE x = ANY ('{1,2}') AND y IS DISTINCT FROM z
--- next ---
SELECT 'x' COLLATE "C", 'y' COLLATE "en_US"
--- next ---
CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t USING gin (doc jsonb_path_ops) WHERE deleted_at IS NULL
--- next ---
SELECT 1 -- no newline at end
