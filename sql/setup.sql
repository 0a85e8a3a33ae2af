--
-- Shared fixtures for the regression suites.  The audit database is
-- "postgres" (agent_guard.database); the extension must exist there for
-- audit rows to be written.  Later files use the roles made here.
--
\set regdb :DBNAME
\c postgres postgres
CREATE EXTENSION agent_guard;
\c :regdb
CREATE EXTENSION agent_guard;
SELECT extname, extversion, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'agent_guard';

-- ag_bot: an agent login that owns the application's objects.
CREATE ROLE ag_bot LOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_bot IS 'agent';
-- ag_agents: a tagged group; its members are agents.
CREATE ROLE ag_agents NOLOGIN;
SECURITY LABEL FOR agent_guard ON ROLE ag_agents IS 'agent';
CREATE ROLE ag_member LOGIN IN ROLE ag_agents;
-- ag_human: an untagged admin that may manage roles.
CREATE ROLE ag_human LOGIN CREATEROLE;
-- ag_plain: an untagged ordinary role.
CREATE ROLE ag_plain LOGIN;

CREATE SCHEMA app AUTHORIZATION ag_bot;
GRANT CREATE ON DATABASE :"regdb" TO ag_bot;
GRANT USAGE ON SCHEMA app TO ag_member, ag_plain;
ALTER ROLE ag_bot SET search_path = app, public;
ALTER ROLE ag_member SET search_path = app, public;
ALTER ROLE ag_plain SET search_path = app, public;

SELECT role_name FROM agent_guard.agent_roles ORDER BY 1;
