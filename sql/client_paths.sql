--
-- Every way a destructive statement can reach the server is judged on the
-- plan that runs: CTEs, COPY, EXPLAIN ANALYZE, CREATE TABLE AS, views,
-- rules, functions, procedures, DO, dynamic SQL, prepared statements,
-- triggers, and multi-statement strings.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
\c :regdb ag_bot
\set VERBOSITY terse

CREATE TABLE cp (id int PRIMARY KEY, note text);
INSERT INTO cp SELECT g, 'n' || g FROM generate_series(1, 50) g;
CREATE TABLE cp_log (msg text);

-- Writable CTE: reaches the executor as a SELECT.
WITH d AS (DELETE FROM cp RETURNING *) SELECT count(*) FROM d;
WITH u AS (UPDATE cp SET note = 'x' RETURNING *) SELECT count(*) FROM u;
WITH d AS (DELETE FROM cp WHERE id = 50 RETURNING id) SELECT * FROM d;
-- COPY, EXPLAIN ANALYZE, CREATE TABLE AS wrap the DML in a utility statement.
COPY (DELETE FROM cp RETURNING id) TO STDOUT;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) DELETE FROM cp;
CREATE TABLE cp_copy AS WITH d AS (DELETE FROM cp RETURNING *) SELECT * FROM d;
-- EXPLAIN without ANALYZE executes nothing and is allowed.
EXPLAIN (COSTS OFF) DELETE FROM cp;

-- An auto-updatable view, and a view with an INSTEAD rule.
CREATE VIEW cp_v AS SELECT * FROM cp;
CREATE VIEW cp_vw AS SELECT * FROM cp WHERE id > 0 AND note IS NOT NULL;
CREATE VIEW cp_vv AS SELECT * FROM cp_vw WHERE id < 1000;
DELETE FROM cp_v;
UPDATE cp_v SET note = 'v';
DELETE FROM cp_vw;
UPDATE cp_vw SET note = 'v' WHERE true;
DELETE FROM cp_vv;
DELETE FROM cp_vw WHERE id = 46;
UPDATE cp_vv SET note = 'vv' WHERE id = 45;
CREATE VIEW cp_rv AS SELECT 1 AS k;
CREATE RULE cp_rv_del AS ON DELETE TO cp_rv DO INSTEAD DELETE FROM cp;
DELETE FROM cp_rv;
-- A rule on INSERT that empties another table.
CREATE RULE cp_log_wipe AS ON INSERT TO cp_log DO ALSO DELETE FROM cp;
INSERT INTO cp_log VALUES ('hello');
DROP RULE cp_log_wipe ON cp_log;
\c - postgres
DROP RULE cp_log_wipe ON app.cp_log;
\c - ag_bot
\set VERBOSITY terse

-- SQL and PL/pgSQL functions, procedures, DO, dynamic EXECUTE.
CREATE FUNCTION cp_sql_wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM cp';
CREATE FUNCTION cp_plpgsql_wipe() RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN UPDATE cp SET note = NULL; END $$;
CREATE PROCEDURE cp_proc_wipe() LANGUAGE plpgsql
  AS $$ BEGIN DELETE FROM cp; END $$;
CREATE FUNCTION cp_dyn(stmt text) RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN EXECUTE stmt; END $$;
SELECT cp_sql_wipe();
SELECT cp_plpgsql_wipe();
CALL cp_proc_wipe();
DO $$ BEGIN DELETE FROM cp; END $$;
DO $$ BEGIN EXECUTE 'DELETE FROM ' || 'cp'; END $$;
DO $$ BEGIN EXECUTE format('TRUNCATE %I', 'cp'); END $$;
DO $$ BEGIN EXECUTE 'DROP TABLE cp'; END $$;
SELECT cp_dyn('DELETE FROM cp WHERE 1 = 1');
SELECT cp_dyn('ALTER TABLE cp DROP COLUMN note');
-- A parameter that makes the filter always true, in PL/pgSQL.
DO $$ DECLARE everything bool := true; BEGIN DELETE FROM cp WHERE everything; END $$;
DO $$ DECLARE k int := 49; BEGIN DELETE FROM cp WHERE id = k; END $$;

-- Prepared statements, custom and generic plans.
PREPARE cp_del_all AS DELETE FROM cp;
EXECUTE cp_del_all;
PREPARE cp_del(int) AS DELETE FROM cp WHERE ($1 IS NULL OR id = $1);
EXECUTE cp_del(48);
EXECUTE cp_del(NULL);
SET plan_cache_mode = force_generic_plan;
EXECUTE cp_del(47);
EXECUTE cp_del(NULL);
PREPARE cp_del_flag(bool) AS DELETE FROM cp WHERE $1;
EXECUTE cp_del_flag(false);
EXECUTE cp_del_flag(true);
RESET plan_cache_mode;

-- A trigger fired by the agent's harmless INSERT.
CREATE FUNCTION cp_trg_wipe() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN DELETE FROM cp; RETURN NEW; END $$;
CREATE TRIGGER cp_log_trg AFTER INSERT ON cp_log
  FOR EACH ROW EXECUTE FUNCTION cp_trg_wipe();
INSERT INTO cp_log VALUES ('hi');
SELECT count(*) FROM cp_log;

-- A multi-statement string is judged statement by statement.
SELECT 1 AS first \; DROP TABLE cp \; SELECT 2 AS never;

-- Foreign-key cascades of a bounded DELETE are bounded too.
CREATE TABLE cp_kid (id int REFERENCES cp ON DELETE CASCADE);
INSERT INTO cp_kid VALUES (2), (2), (3);
DELETE FROM cp WHERE id = 2;
SELECT count(*) FROM cp_kid;

-- Plans cached before the role was tagged are judged when they run.
\c - postgres
CREATE ROLE ag_late LOGIN;
GRANT USAGE ON SCHEMA app TO ag_late;
GRANT ALL ON app.cp TO ag_late;
CREATE FUNCTION public.cp_late_wipe() RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN DELETE FROM app.cp WHERE id > 1000; DELETE FROM app.cp; END $$;
SET SESSION AUTHORIZATION ag_late;
BEGIN;
SELECT public.cp_late_wipe();
PREPARE cp_late AS DELETE FROM app.cp;
EXECUTE cp_late;
ROLLBACK;
RESET SESSION AUTHORIZATION;
SECURITY LABEL FOR agent_guard ON ROLE ag_late IS 'agent';
SET SESSION AUTHORIZATION ag_late;
EXECUTE cp_late;
SELECT public.cp_late_wipe();
RESET SESSION AUTHORIZATION;

SELECT count(*) AS rows_left FROM app.cp;

\c postgres postgres
SELECT command_tag, verdict, rule, objects, statement, top_statement
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
