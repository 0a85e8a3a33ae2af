--
-- DELETE, UPDATE and MERGE that reach every row are refused to an agent,
-- however the WHERE clause is dressed up; bounded ones run.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
\c :regdb ag_bot
\set VERBOSITY terse

CREATE TABLE du (id int PRIMARY KEY, grp int, note text);
INSERT INTO du SELECT g, g % 3, 'n' || g FROM generate_series(1, 30) g;
CREATE TABLE du_other (id int PRIMARY KEY, flag bool);
INSERT INTO du_other SELECT g, g = 1 FROM generate_series(1, 5) g;
CREATE TABLE du_part (id int, k int) PARTITION BY LIST (k);
CREATE TABLE du_part_a PARTITION OF du_part FOR VALUES IN (1);
CREATE TABLE du_part_b PARTITION OF du_part FOR VALUES IN (2);
INSERT INTO du_part SELECT g, 1 + g % 2 FROM generate_series(1, 10) g;
CREATE TABLE du_inh_parent (id int);
CREATE TABLE du_inh_child () INHERITS (du_inh_parent);
INSERT INTO du_inh_child VALUES (1), (2);

-- No WHERE, or a WHERE that cannot restrict.
DELETE FROM du;
DELETE FROM du WHERE true;
DELETE FROM du WHERE 1 = 1;
DELETE FROM du WHERE 'a' = 'a';
DELETE FROM du WHERE id = 3 OR true;
DELETE FROM du WHERE NOT false;
DELETE FROM du WHERE random() < 2;
DELETE FROM du WHERE now() > '2000-01-01';
DELETE FROM du WHERE EXISTS (SELECT 1 FROM du_other);
-- Mentions the row but is true for every row.
DELETE FROM du WHERE id IS NOT NULL;
DELETE FROM du WHERE NOT (id IS NULL);
DELETE FROM du WHERE id = id;
DELETE FROM du WHERE id >= id AND ctid IS NOT NULL;
DELETE FROM du WHERE grp = 1 OR id IS NOT NULL;
DELETE FROM du AS d;
DELETE FROM ONLY du;
UPDATE du SET note = 'x';
UPDATE du SET note = 'x' WHERE true;
UPDATE du SET note = 'x' WHERE 2 > 1;
UPDATE du SET note = 'x' FROM du_other;
-- A join that does not tie the target's rows to anything.
DELETE FROM du USING du_other;
DELETE FROM du USING du_other WHERE du_other.id = 1;
-- Partitioned and inherited tables.
DELETE FROM du_part;
UPDATE du_part SET id = 0;
DELETE FROM du_inh_parent;
-- MERGE that matches every row, then deletes or updates.
MERGE INTO du USING du_other ON true WHEN MATCHED THEN DELETE;
MERGE INTO du USING (SELECT 1 AS one) s ON true WHEN MATCHED THEN UPDATE SET note = 'm';
MERGE INTO du USING du_other o ON o.id = 1 WHEN MATCHED THEN DELETE;
-- Nothing was lost.
SELECT count(*), count(*) FILTER (WHERE note = 'x' OR note = 'm') AS changed FROM du;
SELECT count(*) FROM du_part;
SELECT count(*) FROM du_inh_parent;

-- Bounded statements run.
DELETE FROM du WHERE id = 30;
DELETE FROM du WHERE id > 27;
DELETE FROM du WHERE id IN (SELECT id FROM du_other WHERE flag);
DELETE FROM du USING du_other WHERE du.id = du_other.id + 20;
DELETE FROM du WHERE false;
UPDATE du SET note = 'b' WHERE grp = 0;
UPDATE du SET note = 'c' WHERE id = ANY (ARRAY[2, 4]);
-- note is nullable: IS NOT NULL restricts.
UPDATE du SET grp = grp WHERE note IS NOT NULL AND note = note AND id < 5;
DELETE FROM du_part WHERE k = 1 AND id < 3;
UPDATE du_part SET id = id + 100 WHERE k = 2;
MERGE INTO du USING du_other o ON du.id = o.id
  WHEN MATCHED AND o.id = 2 THEN DELETE;
MERGE INTO du USING (SELECT 1 AS one) s ON true
  WHEN MATCHED AND du.id = 3 THEN UPDATE SET note = 'merged';
-- MERGE that only inserts is not destructive.
MERGE INTO du USING (VALUES (100)) v(id) ON true
  WHEN NOT MATCHED THEN INSERT VALUES (v.id, 0, 'new');
SELECT count(*) FROM du;
SELECT count(*) FROM du_part;

\c postgres postgres
SELECT command_tag, verdict, rule, objects, statement
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
