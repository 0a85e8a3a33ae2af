--
-- The administrator's policy: budgets and actions per table and per role,
-- with precedence table+role > table > role > settings; a malformed policy
-- fails closed; dry run records the rows really reached.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
-- Request ids in this file's output do not depend on earlier files.
SELECT setval(pg_get_serial_sequence('agent_guard.approval_request', 'id'), 300) AS first_request \gset
\c :regdb postgres
CREATE ROLE ag_pol LOGIN;
CREATE ROLE ag_nodelete LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_pol IS 'agent';
SECURITY LABEL FOR agent_guard ON ROLE ag_nodelete IS 'agent';
CREATE SCHEMA pol;
GRANT USAGE ON SCHEMA pol TO ag_pol, ag_nodelete, ag_bot;
CREATE TABLE pol.orders (id int PRIMARY KEY);
CREATE TABLE pol.items (id int PRIMARY KEY);
CREATE TABLE pol.staging_import (id int);
CREATE TABLE pol.staging_old (id int);
INSERT INTO pol.orders SELECT generate_series(1, 100);
INSERT INTO pol.items SELECT generate_series(1, 100);
INSERT INTO pol.staging_import SELECT generate_series(1, 100);
INSERT INTO pol.staging_old SELECT generate_series(1, 10);
ANALYZE pol.orders;
GRANT ALL ON ALL TABLES IN SCHEMA pol TO ag_pol, ag_nodelete, ag_bot;
ALTER TABLE pol.staging_old OWNER TO ag_pol;
ALTER ROLE ag_pol SET search_path = pol;
ALTER ROLE ag_nodelete SET search_path = pol;

INSERT INTO agent_guard.policy (role_name, table_name, operation, action, max_rows, comment) VALUES
  (NULL,          'orders',      'any',      'budget', 3,    'orders may lose at most 3 rows per statement'),
  ('ag_pol',      NULL,          'any',      'budget', 5,    'ag_pol: 5 rows per statement anywhere'),
  ('ag_pol',      'pol.orders',  'any',      'budget', 4,    'ag_pol on orders: 4'),
  (NULL,          'staging\_%',  'any',      'allow',  NULL, 'staging tables are scratch'),
  (NULL,          'staging\_%',  'truncate', 'allow',  NULL, NULL),
  (NULL,          'staging\_%',  'drop',     'allow',  NULL, NULL),
  ('ag_nodelete', NULL,          'delete',   'deny',   NULL, 'this role may not delete');
-- The table's own checks refuse contradictions.
INSERT INTO agent_guard.policy (table_name, action) VALUES ('x', 'budget');
INSERT INTO agent_guard.policy (table_name, action, max_rows) VALUES ('x', 'allow', 5);
INSERT INTO agent_guard.policy (table_name, operation, action) VALUES ('x', 'wipe', 'deny');

-- ag_bot: the table rule for orders (3), the default elsewhere.
\c - ag_bot
\set VERBOSITY terse
BEGIN;
DELETE FROM pol.orders WHERE id <= 3;
DELETE FROM pol.items WHERE id <= 50;
ROLLBACK;
DELETE FROM pol.orders WHERE id <= 4;
-- ag_pol: its rule for orders (4) beats the table rule (3); elsewhere 5.
\c - ag_pol
\set VERBOSITY terse
BEGIN;
DELETE FROM orders WHERE id <= 4;
DELETE FROM items WHERE id <= 5;
ROLLBACK;
DELETE FROM orders WHERE id <= 5;
DELETE FROM items WHERE id <= 6;
-- Staging tables: no budget, and even unbounded statements, TRUNCATE and
-- DROP TABLE are allowed.
DELETE FROM staging_import WHERE id <= 60;
UPDATE staging_import SET id = 0;
DELETE FROM staging_import;
TRUNCATE staging_import;
DROP TABLE staging_old;
-- ... but not for another table in the same statement.
TRUNCATE staging_import, orders;
-- The blast radius of a refused TRUNCATE.
\set VERBOSITY default
TRUNCATE orders;
\set VERBOSITY terse
-- ag_nodelete may not delete at all, however bounded; updates are fine.
\c - ag_nodelete
\set VERBOSITY terse
DELETE FROM items WHERE id = 1;
UPDATE items SET id = id WHERE id = 1;
SELECT count(*) FROM items;

-- Agents cannot touch the policy.
\c - ag_pol
\set VERBOSITY terse
DELETE FROM agent_guard.policy;
INSERT INTO agent_guard.policy (table_name, action) VALUES ('%', 'allow');

-- A malformed policy fails closed: a rule whose role is gone.
\c - postgres
CREATE ROLE ag_gone;
INSERT INTO agent_guard.policy (role_name, action, max_rows) VALUES ('ag_gone', 'budget', 1000000);
DROP ROLE ag_gone;
\c - ag_bot
\set VERBOSITY default
DELETE FROM pol.items WHERE id = 2;
\set VERBOSITY terse
UPDATE pol.items SET id = id WHERE id = 2;
-- Humans are not governed by the policy.
\c - postgres
DELETE FROM pol.items WHERE id = 99;
DELETE FROM agent_guard.policy WHERE role_name = 'ag_gone';
\c - ag_bot
\set VERBOSITY terse
DELETE FROM pol.items WHERE id = 2;

-- Dry run: the statement runs, and the record shows how far it went.
\c - postgres
ALTER ROLE ag_pol SET agent_guard.mode = dry_run;
\c - ag_pol
\set VERBOSITY terse
DELETE FROM items WHERE id BETWEEN 10 AND 29;
SELECT count(*) FROM items WHERE id BETWEEN 10 AND 29;
\c - postgres
ALTER ROLE ag_pol RESET agent_guard.mode;

\c postgres postgres
SELECT session_role, command_tag, verdict, rule, objects, row_count
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
