--
-- Who is an agent: tags, membership, SET ROLE, SECURITY DEFINER, labels.
--
\set regdb :DBNAME
\c postgres postgres
SELECT coalesce(max(id), 0) AS last_id FROM agent_guard.audit_log \gset
\c :regdb

SELECT r, agent_guard.role_is_agent(r::regrole)
  FROM unnest(ARRAY['ag_bot', 'ag_agents', 'ag_member', 'ag_human',
                    'ag_plain', 'postgres']) AS r;

CREATE TABLE app.items (id int PRIMARY KEY, v text);
INSERT INTO app.items SELECT g, 'v' || g FROM generate_series(1, 10) g;
ALTER TABLE app.items OWNER TO ag_bot;
GRANT ALL ON app.items TO ag_member, ag_plain;

-- A SECURITY DEFINER function owned by a superuser that empties the table.
CREATE FUNCTION public.sd_wipe() RETURNS void
LANGUAGE sql SECURITY DEFINER AS $$ DELETE FROM app.items $$;
GRANT ag_plain TO ag_bot;

\set VERBOSITY terse
\c - ag_bot
SELECT session_user, current_user, agent_guard.is_agent_session();
DELETE FROM items;
\echo :LAST_ERROR_SQLSTATE
-- Switching to an untagged role does not shed the tag.
SET ROLE ag_plain;
SELECT session_user, current_user, agent_guard.is_agent_session();
DELETE FROM items;
DROP TABLE items;
RESET ROLE;
-- Nor does a SECURITY DEFINER function owned by an untagged superuser.
SELECT public.sd_wipe();
-- SET SESSION AUTHORIZATION needs a superuser login.
SET SESSION AUTHORIZATION ag_human;
SELECT session_user, agent_guard.is_agent_session();
-- Bounded work is fine.
DELETE FROM items WHERE id = 10;
SELECT count(*) FROM items;

-- An agent cannot set or remove agent_guard labels, not even its own.
SECURITY LABEL FOR agent_guard ON ROLE ag_bot IS NULL;
SECURITY LABEL FOR agent_guard ON ROLE ag_plain IS 'agent';
SECURITY LABEL ON ROLE ag_bot IS NULL;

-- A member of a tagged group is an agent.
\c - ag_member
SELECT agent_guard.is_agent_session();
DELETE FROM items;
UPDATE items SET v = 'x';

-- An untagged role is not guarded.
\c - ag_plain
SELECT agent_guard.is_agent_session();
BEGIN;
DELETE FROM items;
ROLLBACK;

-- A non-agent with CREATEROLE may tag and untag; a role without it may not.
SECURITY LABEL FOR agent_guard ON ROLE ag_member IS 'agent';
\c - ag_human
SECURITY LABEL FOR agent_guard ON ROLE ag_plain IS 'agent';
SELECT agent_guard.role_is_agent('ag_plain');
\c - ag_plain
SELECT agent_guard.is_agent_session();
DELETE FROM items;
\c - ag_human
SECURITY LABEL FOR agent_guard ON ROLE ag_plain IS NULL;
SELECT agent_guard.role_is_agent('ag_plain');
-- Only the label 'agent' exists, and only on roles.
SECURITY LABEL FOR agent_guard ON ROLE ag_plain IS 'robot';
\c - postgres
SECURITY LABEL FOR agent_guard ON TABLE app.items IS 'agent';

-- An agent that may create roles still cannot untag itself.
CREATE ROLE ag_bot_admin LOGIN CREATEROLE;
SECURITY LABEL FOR agent_guard ON ROLE ag_bot_admin IS 'agent';
\c - ag_bot_admin
SECURITY LABEL FOR agent_guard ON ROLE ag_bot_admin IS NULL;
SECURITY LABEL FOR agent_guard ON ROLE ag_member IS NULL;
\c - postgres
SELECT agent_guard.role_is_agent('ag_bot_admin'), agent_guard.role_is_agent('ag_member');

-- An untagged superuser is not an agent, even with SET ROLE to one.
SELECT agent_guard.is_agent_session();
SET ROLE ag_bot;
SELECT agent_guard.is_agent_session();
RESET ROLE;

SELECT count(*) FROM app.items;

\c postgres postgres
SELECT session_role, effective_role, command_tag, verdict, rule, objects, statement
  FROM agent_guard.audit_log WHERE id > :last_id ORDER BY id;
\c :regdb
