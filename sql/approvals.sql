--
-- Human approval: a refused statement files a request; a human approves it
-- and gets a one-time token bound to role, database, statement and row
-- ceiling; the agent runs exactly that statement once with it.
--
\set regdb :DBNAME
\c postgres postgres
CREATE ROLE ag_apbot LOGIN;
CREATE ROLE ag_approver LOGIN;
CREATE ROLE ag_approver2 LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_apbot IS 'agent';
GRANT EXECUTE ON FUNCTION agent_guard.approve(bigint, bigint, interval),
  agent_guard.reject(bigint, text) TO ag_approver, ag_approver2, ag_apbot;
GRANT SELECT ON agent_guard.approval_requests TO ag_approver, ag_approver2;
SELECT coalesce(max(id), 0) AS last_audit FROM agent_guard.audit_log \gset
-- Request ids in this file's output do not depend on earlier files.
SELECT setval(pg_get_serial_sequence('agent_guard.approval_request', 'id'), 1000) AS first_request \gset
SELECT coalesce(max(id), 0) AS base FROM agent_guard.approval_request \gset
-- A table of the same name in the audit database, for the database binding.
CREATE TABLE public.ap_t (id int);
ALTER TABLE public.ap_t OWNER TO ag_apbot;
\c :regdb postgres
CREATE SCHEMA ap AUTHORIZATION ag_apbot;
ALTER ROLE ag_apbot SET search_path = ap;
ALTER ROLE ag_apbot SET agent_guard.max_rows = 10;
CREATE ROLE ag_apbot2 LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_apbot2 IS 'agent';
GRANT USAGE ON SCHEMA ap TO ag_apbot2;
ALTER ROLE ag_apbot2 SET search_path = ap;
INSERT INTO agent_guard.policy (table_name, operation, action, approvers)
  VALUES ('ap_crit', 'drop', 'deny', 2);

\c - ag_apbot
\set VERBOSITY terse
CREATE TABLE ap_t (id int);
CREATE TABLE ap_other (id int);
CREATE TABLE ap_items (id int PRIMARY KEY);
INSERT INTO ap_items SELECT generate_series(1, 30);
GRANT ALL ON ap_t, ap_other, ap_items TO ag_apbot2;

-- 1. Refused; a request is filed.  A retry finds the same pending request.
DROP TABLE ap_t;
DROP   TABLE   ap_t;
\c postgres postgres
SELECT id - :base AS req, role_name, database_name = :'regdb' AS right_db,
       statement, length(fingerprint) AS fp_len, objects, status, approvals_required
  FROM agent_guard.approval_requests WHERE id > :base ORDER BY id;
SELECT max(id) AS req FROM agent_guard.approval_request \gset
SELECT fingerprint = agent_guard.fingerprint('drop table AP_T') AS fp_matches
  FROM agent_guard.approval_request WHERE id = :req;

-- 2. Only a human approver approves: not an agent, even if granted.
\c postgres ag_apbot
\set VERBOSITY terse
SELECT agent_guard.approve(:req);
SELECT * FROM agent_guard.approval_requests;
\c postgres ag_approver
SELECT agent_guard.approve(:req, valid_for => '-1 hour');
SELECT agent_guard.approve(:req) AS token \gset
SELECT :'token' ~ '^agt_[0-9a-f]{64}$' AS token_shape;
SELECT agent_guard.approve(:req);
SELECT status, approved_by, decided_by FROM agent_guard.approval_requests WHERE id = :req;

-- 3. The token is bound to the statement, the role and the database.
\c :regdb ag_apbot
\set VERBOSITY terse
SET agent_guard.approval_token = :'token';
DROP TABLE ap_other;
DROP TABLE ap_t, ap_other;
\c :regdb ag_apbot2
\set VERBOSITY terse
SET agent_guard.approval_token = :'token';
DROP TABLE ap_t;
\c postgres ag_apbot
\set VERBOSITY terse
SET agent_guard.approval_token = :'token';
DROP TABLE public.ap_t;
DROP TABLE ap_t;
-- Forged and truncated tokens.
\c :regdb ag_apbot
\set VERBOSITY terse
SET agent_guard.approval_token = 'agt_0000000000000000000000000000000000000000000000000000000000000000';
DROP TABLE ap_t;
SELECT left(:'token', 20) AS short \gset
SET agent_guard.approval_token = :'short';
DROP TABLE ap_t;
RESET agent_guard.approval_token;

-- 4. The right statement, in another spelling, with the token in a leading
-- comment: it runs, once.
\set VERBOSITY default
SELECT format('/* agent_guard:token=%s */ drop  table
  AP_T -- dropping the old table
', :'token') AS approved_sql \gset
:approved_sql;
\set VERBOSITY terse
SELECT count(*) FROM pg_tables WHERE tablename = 'ap_t';
CREATE TABLE ap_t (id int);
:approved_sql;

-- 5. A row ceiling; SET LOCAL; a different literal is another statement;
-- a token is spent when its statement runs, whatever the transaction does.
DELETE FROM ap_items WHERE id > 0 AND id <= 30;
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request \gset
SELECT row_count FROM agent_guard.approval_requests WHERE id = :req;
\c postgres ag_approver
SELECT agent_guard.approve(:req, max_rows => 20) AS token \gset
\c :regdb ag_apbot
\set VERBOSITY terse
BEGIN;
SET LOCAL agent_guard.approval_token = :'token';
DELETE FROM ap_items WHERE id > 0 AND id <= 29;
ROLLBACK;
BEGIN;
SET LOCAL agent_guard.approval_token = :'token';
DELETE FROM ap_items WHERE id > 0 AND id <= 30;
ROLLBACK;
SHOW agent_guard.approval_token;
SET agent_guard.approval_token = :'token';
DELETE FROM ap_items WHERE id > 0 AND id <= 30;
RESET agent_guard.approval_token;
DELETE FROM ap_items WHERE id > 0 AND id <= 25;
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request \gset
\c postgres ag_approver
SELECT agent_guard.approve(:req, max_rows => 25) AS token \gset
\c :regdb ag_apbot
\set VERBOSITY terse
BEGIN;
SET LOCAL agent_guard.approval_token = :'token';
DELETE FROM ap_items WHERE id > 0 AND id <= 25;
SELECT count(*) FROM ap_items;
ROLLBACK;
SET agent_guard.approval_token = :'token';
DELETE FROM ap_items WHERE id > 0 AND id <= 25;
RESET agent_guard.approval_token;
SELECT count(*) FROM ap_items;

-- 6. Expired and rejected approvals.
DELETE FROM ap_items;
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request \gset
\c postgres ag_approver
SELECT agent_guard.approve(:req, valid_for => '10 milliseconds') AS token \gset
SELECT pg_sleep(0.1);
\c :regdb ag_apbot
\set VERBOSITY terse
SET agent_guard.approval_token = :'token';
DELETE FROM ap_items;
RESET agent_guard.approval_token;
UPDATE ap_items SET id = id + 100;
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request \gset
\c postgres ag_approver
SELECT agent_guard.approve(:req) AS token \gset
SELECT agent_guard.reject(:req, 'changed my mind');
SELECT agent_guard.approve(:req);
\c :regdb ag_apbot
\set VERBOSITY terse
SET agent_guard.approval_token = :'token';
UPDATE ap_items SET id = id + 100;
RESET agent_guard.approval_token;
SELECT count(*), min(id) FROM ap_items;

-- 7. The two-person rule, from the policy.
CREATE TABLE ap_crit (id int);
DROP TABLE ap_crit;
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request \gset
SELECT approvals_required FROM agent_guard.approval_requests WHERE id = :req;
\c postgres ag_approver
SELECT agent_guard.approve(:req) IS NULL AS no_token_yet;
SELECT agent_guard.approve(:req);
\c postgres ag_approver2
SELECT agent_guard.approve(:req) AS token \gset
SELECT status, approved_by FROM agent_guard.approval_requests WHERE id = :req;
\c :regdb ag_apbot
\set VERBOSITY terse
SET agent_guard.approval_token = :'token';
DROP TABLE ap_crit;
RESET agent_guard.approval_token;

-- 8. Filing ahead of time; nothing runs until approved.
SELECT agent_guard.request_approval('TRUNCATE ap_other') - :base AS intent_req;
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request \gset
SELECT intent, statement, status FROM agent_guard.approval_requests WHERE id = :req;
\c postgres ag_approver
SELECT agent_guard.approve(:req) AS token \gset
\c :regdb ag_apbot
\set VERBOSITY terse
SELECT format('/* agent_guard:token=%s */ TRUNCATE ap_other', :'token') AS intent_sql \gset
:intent_sql;

-- 9. No role approves its own request, even once it is no longer an agent.
\c postgres postgres
SELECT max(id) AS req FROM agent_guard.approval_request
 WHERE status = 'pending' AND role_name = 'ag_apbot' \gset
SECURITY LABEL FOR agent_guard ON ROLE ag_apbot IS NULL;
\c postgres ag_apbot
\set VERBOSITY terse
SELECT agent_guard.approve(:req);
\c postgres postgres
SECURITY LABEL FOR agent_guard ON ROLE ag_apbot IS 'agent';

-- The record: requests, uses and refusals; never a token in clear.
SELECT command_tag, verdict, rule, request_id - :base AS req, approver,
       substring(reason from 'token was refused: (.*)$') AS token_refused
  FROM agent_guard.audit_log
 WHERE id > :last_audit AND session_role IN ('ag_apbot', 'ag_apbot2')
 ORDER BY id;
SELECT count(*) AS tokens_in_clear FROM agent_guard.audit_log
 WHERE statement ~ 'agt_[0-9a-f]{8}' OR top_statement ~ 'agt_[0-9a-f]{8}';
SELECT count(*) AS tokens_in_requests FROM agent_guard.approval_request
 WHERE statement ~ 'agt_[0-9a-f]{8}';
\c :regdb postgres
DELETE FROM agent_guard.policy WHERE table_name = 'ap_crit';
