--
-- dry_run mode records what would have been refused and lets it run.  An
-- administrator may choose it per role; attempts on the guard itself are
-- refused even then.  agent_guard.enabled = off lets everything through.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
\c :regdb postgres
CREATE ROLE ag_dry LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_dry IS 'agent';
GRANT USAGE, CREATE ON SCHEMA app TO ag_dry;
ALTER ROLE ag_dry SET agent_guard.mode = dry_run;
ALTER ROLE ag_dry SET search_path = app;

\c - ag_dry
\set VERBOSITY terse
SHOW agent_guard.mode;
CREATE TABLE dr (id int);
INSERT INTO dr SELECT generate_series(1, 5);
DELETE FROM dr;
INSERT INTO dr SELECT generate_series(1, 5);
UPDATE dr SET id = 0;
TRUNCATE dr;
DROP TABLE dr;
-- Not for the guard itself.
SECURITY LABEL FOR agent_guard ON ROLE ag_dry IS NULL;
SELECT agent_guard.role_is_agent('ag_dry');

-- The guard switched off for one role.
\c - postgres
ALTER ROLE ag_dry RESET agent_guard.mode;
ALTER ROLE ag_dry SET agent_guard.enabled = off;
\c - ag_dry
\set VERBOSITY terse
SHOW agent_guard.enabled;
CREATE TABLE dr2 (id int);
DROP TABLE dr2;
\c - postgres
ALTER ROLE ag_dry RESET agent_guard.enabled;
\c - ag_dry
\set VERBOSITY terse
CREATE TABLE dr3 (id int);
DROP TABLE dr3;

\c postgres postgres
SELECT session_role, command_tag, verdict, rule, objects
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
