--
-- Row budgets: every row a statement changes counts, by whatever path; the
-- statement stops at the budget; transactions and a rolling window per role
-- add up batches; the administrator's policy sets budgets per role and
-- table.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
-- Request ids in this file's output do not depend on earlier files.
SELECT setval(pg_get_serial_sequence('agent_guard.approval_request', 'id'), 200) AS first_request \gset
\c :regdb postgres
CREATE ROLE ag_budget LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_budget IS 'agent';
CREATE SCHEMA bud AUTHORIZATION ag_budget;
ALTER ROLE ag_budget SET search_path = bud;
ALTER ROLE ag_budget SET agent_guard.max_rows = 10;
ALTER ROLE ag_budget SET agent_guard.max_rows_per_transaction = 25;
ALTER ROLE ag_budget SET agent_guard.window_max_rows = 0;

\c - ag_budget
\set VERBOSITY terse
SHOW agent_guard.max_rows;
CREATE TABLE b (id int PRIMARY KEY, v int);
INSERT INTO b SELECT g, 0 FROM generate_series(1, 100) g;

-- Exactly at the budget passes; one more row fails, and nothing changes.
BEGIN;
DELETE FROM b WHERE id <= 10;
ROLLBACK;
DELETE FROM b WHERE id <= 11;
UPDATE b SET v = 1 WHERE id <= 10;
UPDATE b SET v = 1 WHERE id <= 11;
SELECT count(*), sum(v) FROM b;

-- The full error.
\set VERBOSITY default
DELETE FROM b WHERE id > 50;
\set VERBOSITY terse

-- Writable CTEs add up with the main statement.
WITH d AS (DELETE FROM b WHERE id <= 6 RETURNING id)
UPDATE b SET v = 2 WHERE id BETWEEN 50 AND 55;
-- MERGE counts the rows its actions change.
CREATE TABLE src (id int);
INSERT INTO src SELECT generate_series(1, 11);
MERGE INTO b USING src ON b.id = src.id WHEN MATCHED THEN UPDATE SET v = 3;
MERGE INTO b USING src ON b.id = src.id AND src.id <= 10
  WHEN MATCHED THEN UPDATE SET v = 3;
-- INSERT ... ON CONFLICT DO UPDATE counts the rows it updates.
INSERT INTO b SELECT g, 4 FROM generate_series(1, 11) g
  ON CONFLICT (id) DO UPDATE SET v = excluded.v;
SELECT count(*) FILTER (WHERE v = 3) AS merged, count(*) FILTER (WHERE v = 4) AS upserted FROM b;

-- Foreign-key cascades, two and three levels deep.
CREATE TABLE c1 (id int PRIMARY KEY, b_id int REFERENCES b ON DELETE CASCADE);
CREATE TABLE c2 (id int PRIMARY KEY, c1_id int REFERENCES c1 ON DELETE CASCADE);
INSERT INTO c1 SELECT g, g FROM generate_series(1, 4) g;
INSERT INTO c2 SELECT g, g FROM generate_series(1, 4) g;
INSERT INTO c1 SELECT 10 + g, 5 FROM generate_series(1, 5) g;
-- 1 + 5 rows: fits.
BEGIN;
DELETE FROM b WHERE id = 5;
ROLLBACK;
-- 3 rows of b, 3 of c1, 3 of c2 = 9: fits; 4 of each = 12: does not.
BEGIN;
DELETE FROM b WHERE id <= 3;
ROLLBACK;
DELETE FROM b WHERE id <= 4;
-- ON DELETE SET NULL updates count too.
CREATE TABLE c3 (id int, b_id int REFERENCES b ON DELETE SET NULL);
INSERT INTO c3 SELECT g, 20 FROM generate_series(1, 10) g;
DELETE FROM b WHERE id = 20;
SELECT count(*) FROM b WHERE id IN (5, 20);

-- Rows changed by triggers and rules count.
CREATE TABLE bt (id int PRIMARY KEY);
INSERT INTO bt SELECT generate_series(1, 10);
CREATE TABLE audit_trail (id int, v int);
INSERT INTO audit_trail SELECT g, 0 FROM generate_series(1, 20) g;
CREATE FUNCTION bt_trg() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN UPDATE audit_trail SET v = v + 1 WHERE id <= 3; RETURN OLD; END $$;
CREATE TRIGGER bt_trg AFTER DELETE ON bt FOR EACH ROW EXECUTE FUNCTION bt_trg();
-- 2 + 2 * 3 = 8 rows: fits; 3 + 3 * 3 = 12: does not.
DELETE FROM bt WHERE id IN (1, 2);
DELETE FROM bt WHERE id IN (3, 4, 5);
CREATE TABLE br (id int PRIMARY KEY, v int);
INSERT INTO br SELECT generate_series(1, 10), 0;
CREATE RULE br_rule AS ON UPDATE TO br DO ALSO
  UPDATE audit_trail SET v = 0 WHERE id <= 8;
-- 1 + 8 rows: fits; 3 + 8: does not.
UPDATE br SET v = 99 WHERE id = 1;
UPDATE br SET v = 99 WHERE id IN (2, 3, 4);
SELECT count(*) AS bt_rows FROM bt;
SELECT count(*) FILTER (WHERE v = 99) AS br_updated FROM br;

-- Functions and DO blocks: one top-level statement, one budget.
CREATE FUNCTION del_range(lo int, hi int) RETURNS void LANGUAGE sql
  AS 'DELETE FROM b WHERE id BETWEEN lo AND hi';
SELECT del_range(60, 64);
SELECT del_range(65, 70), del_range(71, 76);
DO $$ BEGIN
  DELETE FROM b WHERE id BETWEEN 65 AND 70;
  DELETE FROM b WHERE id BETWEEN 71 AND 75;
END $$;
SELECT count(*) FROM b WHERE id BETWEEN 60 AND 76;

-- A cursor loop deleting WHERE CURRENT OF counts every row.
DO $$ DECLARE c CURSOR FOR SELECT id FROM b WHERE id BETWEEN 77 AND 90 FOR UPDATE;
BEGIN
  FOR r IN c LOOP DELETE FROM b WHERE CURRENT OF c; END LOOP;
END $$;
SELECT count(*) FROM b WHERE id BETWEEN 77 AND 90;

-- A prepared statement: each execution has its own budget.
PREPARE del_some(int) AS DELETE FROM b WHERE id > $1 AND id <= $1 + 4;
EXECUTE del_some(90);
EXECUTE del_some(94);
SELECT count(*) FROM b WHERE id > 90;

-- A procedure that commits between chunks is still one statement: it is
-- stopped at the budget, and the record tells what was committed before.
CREATE TABLE chunks (id int);
INSERT INTO chunks SELECT generate_series(1, 12);
CREATE PROCEDURE chunked() LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 0..2 LOOP
    DELETE FROM chunks WHERE id > i * 4 AND id <= (i + 1) * 4;
    COMMIT;
  END LOOP;
END $$;
CALL chunked();
SELECT count(*) FROM chunks;

-- Partitioned tables count across partitions.
CREATE TABLE p (id int, k int) PARTITION BY LIST (k);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
CREATE TABLE p2 PARTITION OF p FOR VALUES IN (2);
INSERT INTO p SELECT g, 1 + g % 2 FROM generate_series(1, 30) g;
DELETE FROM p WHERE id <= 11;
DELETE FROM p WHERE id <= 10;
UPDATE p SET k = 1 WHERE id BETWEEN 11 AND 21 AND k = 2;
SELECT count(*) FROM p;

-- Batches in a DO block run into the transaction budget (25 rows).
\c - postgres
SET search_path = bud;
DROP TABLE c1, c2, c3;
INSERT INTO b SELECT g, 0 FROM generate_series(101, 200) g;
ALTER ROLE ag_budget SET agent_guard.max_rows = 100;
\c - ag_budget
\set VERBOSITY terse
DO $$ BEGIN
  FOR i IN 0..9 LOOP
    DELETE FROM b WHERE id > 100 + i * 9 AND id <= 100 + (i + 1) * 9;
  END LOOP;
END $$;
BEGIN;
DELETE FROM b WHERE id BETWEEN 101 AND 109;
DELETE FROM b WHERE id BETWEEN 110 AND 118;
DELETE FROM b WHERE id BETWEEN 119 AND 127;
ROLLBACK;
SELECT count(*) FROM b WHERE id > 100;
-- A budget error caught in an EXCEPTION block does not reset the count:
-- batches 0 and 1 (18 rows) pass, every later one is refused.
DO $$ BEGIN
  FOR i IN 0..5 LOOP
    BEGIN
      DELETE FROM b WHERE id > 100 + i * 9 AND id <= 100 + (i + 1) * 9;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'batch % refused', i;
    END;
  END LOOP;
END $$;
SELECT count(*) FROM b WHERE id > 100;

-- The rolling window per role adds up committed rows across sessions;
-- rolled-back ones cost nothing.
\c - postgres
CREATE ROLE ag_window LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_window IS 'agent';
CREATE SCHEMA win AUTHORIZATION ag_window;
ALTER ROLE ag_window SET search_path = win;
ALTER ROLE ag_window SET agent_guard.window_max_rows = 25;
\c - ag_window
\set VERBOSITY terse
CREATE TABLE w (id int);
INSERT INTO w SELECT generate_series(1, 100);
DELETE FROM w WHERE id BETWEEN 1 AND 10;
BEGIN;
DELETE FROM w WHERE id BETWEEN 11 AND 20;
ROLLBACK;
\c - ag_window
\set VERBOSITY terse
DELETE FROM w WHERE id BETWEEN 11 AND 20;
\c - ag_window
\set VERBOSITY terse
DELETE FROM w WHERE id BETWEEN 21 AND 26;
DELETE FROM w WHERE id BETWEEN 21 AND 25;
DELETE FROM w WHERE id = 26;
SELECT count(*) FROM w;

\c postgres postgres
SELECT session_role, command_tag, verdict, rule, objects, row_count
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
SELECT reason FROM agent_guard.audit_log
 WHERE id > :last_id AND statement LIKE 'CALL%';
\c :regdb
