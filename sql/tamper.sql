--
-- Bypass attempts: an agent (not a superuser, but owner of its tables and
-- granted what a careless admin might grant) tries every known way to
-- switch off, route around or rewrite its guard.  Each is refused and
-- audited, the data stays; the same by a human succeeds.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
SELECT setval(pg_get_serial_sequence('agent_guard.approval_request', 'id'), 2000) AS first_request \gset
\c :regdb postgres
CREATE ROLE ag_t LOGIN CREATEROLE;
SECURITY LABEL FOR agent_guard ON ROLE ag_t IS 'agent';
CREATE ROLE ag_t_defaults;
ALTER ROLE ag_t_defaults SET agent_guard.mode = dry_run;
GRANT ag_t_defaults TO ag_t;
CREATE SCHEMA tp AUTHORIZATION ag_t;
ALTER ROLE ag_t SET search_path = tp;
-- What a careless administrator might have granted.
GRANT pg_execute_server_program, pg_write_server_files, pg_signal_backend TO ag_t;
GRANT CREATE ON DATABASE :"regdb" TO ag_t;
GRANT CREATE ON SCHEMA agent_guard TO ag_t;
GRANT INSERT, UPDATE, DELETE ON agent_guard.policy TO ag_t;
GRANT SET ON PARAMETER session_replication_role TO ag_t;
GRANT EXECUTE ON FUNCTION lo_export(oid, text), lo_import(text) TO ag_t;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO ag_t;
CREATE TABLE tp.customers (id int PRIMARY KEY, name text);
INSERT INTO tp.customers SELECT g, 'c' || g FROM generate_series(1, 20) g;
CREATE TABLE tp.orders (id int PRIMARY KEY, customer int);
ALTER TABLE tp.customers OWNER TO ag_t;
ALTER TABLE tp.orders OWNER TO ag_t;
CREATE ROLE ag_t_human LOGIN;
GRANT USAGE ON SCHEMA tp TO ag_t_human;
GRANT ALL ON ALL TABLES IN SCHEMA tp TO ag_t_human;

\c - ag_t
\set VERBOSITY terse
-- Settings: SET ROLE to a role with other defaults changes nothing.
SET ROLE ag_t_defaults;
SHOW agent_guard.mode;
RESET ROLE;
ALTER ROLE ag_t_defaults SET agent_guard.enabled = off;
-- Extensions, libraries, languages, code in C.
CREATE EXTENSION pgcrypto;
ALTER EXTENSION dblink UPDATE;
LOAD 'auto_explain';
CREATE LANGUAGE plsample;
CREATE FUNCTION tp.evil() RETURNS void AS 'agent_guard', 'agent_guard_is_agent_session' LANGUAGE c;
-- Programs and files on the server.
COPY customers TO PROGRAM 'cat > /tmp/agent_guard_out';
COPY customers FROM PROGRAM 'echo 1';
COPY customers TO '/tmp/agent_guard_out';
SELECT lo_export(lo_create(0), '/tmp/agent_guard_lo');
SELECT lo_import('/etc/hostname');
-- Roles and memberships.
CREATE ROLE ag_t_escape LOGIN;
ALTER ROLE ag_t_human PASSWORD 'x';
GRANT ag_t_defaults TO ag_t_human;
REVOKE ag_t_defaults FROM ag_t;
ALTER ROLE ag_t SET role = 'ag_t_human';
-- The guard's schema and tables.
CREATE TABLE agent_guard.mine (id int);
CREATE FUNCTION agent_guard.is_agent_session(int) RETURNS bool LANGUAGE sql AS 'SELECT false';
INSERT INTO agent_guard.policy (table_name, action) VALUES ('%', 'allow');
UPDATE agent_guard.policy SET action = 'allow' WHERE id = 1;
COPY agent_guard.policy (table_name, action) FROM STDIN;
%	allow
\.
CREATE OPERATOR agent_guard.=== (leftarg = int, rightarg = int, function = int4eq);
-- Triggers, event triggers, replication role.
CREATE EVENT TRIGGER ag_t_evt ON ddl_command_start EXECUTE FUNCTION pg_catalog.now();
ALTER TABLE customers DISABLE TRIGGER ALL;
SET session_replication_role = replica;
SELECT set_config('session_replication_role', 'replica', false);
INSERT INTO orders VALUES (1, 1);
DELETE FROM customers WHERE id = 1;
RESET session_replication_role;
INSERT INTO orders VALUES (1, 1);
-- Connections that could come back as someone else; other sessions.
SELECT public.dblink_connect('loop', 'dbname=postgres');
SELECT * FROM public.dblink('dbname=postgres', 'SELECT 1') AS t(x int);
CREATE SERVER ag_t_loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'postgres');
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'agent_guard audit writer';
SELECT pg_cancel_backend(pg_backend_pid());
-- Rules that make data vanish.
CREATE RULE vanish AS ON INSERT TO orders DO INSTEAD NOTHING;
CREATE RULE "_RETURN" AS ON SELECT TO orders DO INSTEAD SELECT 1 AS id, 1 AS customer;
-- Nothing happened.
SELECT count(*) AS customers FROM customers;
SELECT count(*) AS orders FROM orders;
SELECT count(*) AS escape_roles FROM pg_roles WHERE rolname = 'ag_t_escape';
SELECT extname FROM pg_extension WHERE extname = 'pgcrypto';

-- Code an agent plants runs guarded in a human's session too: a trigger on
-- orders that empties customers, a function, and a rule.
CREATE FUNCTION tp.plant() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN DELETE FROM tp.customers; RETURN NEW; END $$;
CREATE TRIGGER plant AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION tp.plant();
CREATE FUNCTION tp.tidy() RETURNS void LANGUAGE sql AS 'DELETE FROM tp.customers';
CREATE TABLE tp.log (msg text);
GRANT ALL ON tp.log TO ag_t_human;
GRANT EXECUTE ON FUNCTION tp.tidy() TO ag_t_human;
CREATE RULE log_wipe AS ON INSERT TO tp.log DO ALSO DELETE FROM tp.customers;
\c - ag_t_human
\set VERBOSITY terse
SELECT agent_guard.is_agent_session();
INSERT INTO tp.orders VALUES (2, 2);
SELECT tp.tidy();
INSERT INTO tp.log VALUES ('hello');
SELECT count(*) AS customers FROM tp.customers;
-- The human's own work is not affected.
DELETE FROM tp.customers WHERE id = 20;
SELECT agent_guard.is_agent_session();

-- The same statements by a human administrator succeed.
\c - postgres
SET search_path = tp;
DROP TRIGGER plant ON orders;
DROP RULE log_wipe ON log;
CREATE EXTENSION pgcrypto;
COPY (SELECT 1) TO PROGRAM 'cat > /dev/null';
CREATE ROLE ag_t_escape;
SET session_replication_role = replica;
RESET session_replication_role;
INSERT INTO agent_guard.policy (table_name, action) VALUES ('tp_none', 'allow');
DELETE FROM agent_guard.policy WHERE table_name = 'tp_none';
CREATE RULE vanish AS ON INSERT TO orders DO INSTEAD NOTHING;
DROP RULE vanish ON orders;
DROP EXTENSION pgcrypto;
DROP ROLE ag_t_escape;

\c postgres postgres
SELECT command_tag, verdict, rule, objects
  FROM agent_guard.audit_log
 WHERE id > :last_id AND session_role IN ('ag_t', 'ag_t_human')
 ORDER BY id;
\c :regdb postgres
REVOKE CREATE ON SCHEMA agent_guard FROM ag_t;
REVOKE INSERT, UPDATE, DELETE ON agent_guard.policy FROM ag_t;
