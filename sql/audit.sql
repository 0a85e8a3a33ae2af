--
-- The audit trail: what a row holds, that it survives the agent's
-- rollback, that agents can neither read nor write it, and that nobody can
-- change or remove rows.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
-- Request ids in this file's output do not depend on earlier files.
SELECT setval(pg_get_serial_sequence('agent_guard.approval_request', 'id'), 500) AS first_request \gset
\c :regdb ag_bot
\set VERBOSITY terse
CREATE TABLE au (id int);
INSERT INTO au VALUES (1), (2);
SET application_name = 'audit-test-agent';
-- The full error an agent reads.
\set VERBOSITY default
DROP TABLE au;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
BEGIN;
INSERT INTO au VALUES (3);
DELETE FROM au /* rolled back */;
ROLLBACK;
SELECT count(*) FROM au;

\c postgres postgres
SELECT database_name = :'regdb' AS right_db, session_role, effective_role,
       client_addr, application_name, backend_pid > 0 AS has_pid,
       command_tag, statement, top_statement, objects, row_count,
       verdict, rule, reason, logged_at <= now() AS past
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;

-- Nobody may change or remove audit rows, superusers included.
\set VERBOSITY default
UPDATE agent_guard.audit_log SET verdict = 'allow' WHERE id > :last_id;
DELETE FROM agent_guard.audit_log WHERE id > :last_id;
TRUNCATE agent_guard.audit_log;
\set VERBOSITY terse
INSERT INTO agent_guard.audit_log (logged_at, database_name, backend_pid,
    command_tag, statement, verdict, rule)
  VALUES (now(), 'x', 1, 'X', 'x', 'maybe', 'x');

-- Agents cannot read or write it, even when granted.
\c postgres ag_bot
\set VERBOSITY terse
SELECT count(*) FROM agent_guard.audit_log;
INSERT INTO agent_guard.audit_log (logged_at, database_name, backend_pid,
    command_tag, statement, verdict, rule)
  VALUES (now(), 'x', 1, 'X', 'x', 'allow', 'x');
\c postgres postgres
GRANT SELECT ON agent_guard.audit_log TO ag_bot, ag_plain;
\c postgres ag_bot
SELECT count(*) AS rows_seen_by_agent FROM agent_guard.audit_log;
\c postgres ag_plain
SELECT count(*) > 0 AS human_sees_rows FROM agent_guard.audit_log;
\c postgres postgres
REVOKE SELECT ON agent_guard.audit_log FROM ag_bot, ag_plain;
\c :regdb

-- The hash chain holds over everything the suites wrote so far.
\c postgres postgres
SELECT ok, rows_checked > 0 AS has_rows, problem FROM agent_guard.verify_audit();
SELECT count(*) AS unchained FROM agent_guard.audit_log
 WHERE row_hash IS DISTINCT FROM agent_guard.audit_row_hash(audit_log);
-- Agents can neither verify nor purge.
\c postgres ag_bot
\set VERBOSITY terse
SELECT agent_guard.purge_audit(now());
SELECT * FROM agent_guard.verify_audit();
\c :regdb
