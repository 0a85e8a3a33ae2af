--
-- An agent cannot switch off or loosen its guard through settings: not
-- with SET, set_config(), RESET tricks, function SET clauses or ALTER ROLE,
-- not even when a superuser delegated the parameter with GRANT SET.
--
\set regdb :DBNAME
\c :regdb ag_bot
\set VERBOSITY terse
SHOW agent_guard.enabled;
SHOW agent_guard.mode;
SET agent_guard.enabled = off;
SET agent_guard.mode = dry_run;
SET LOCAL agent_guard.mode = dry_run;
SELECT set_config('agent_guard.enabled', 'off', false);
SELECT set_config('agent_guard.mode', 'dry_run', true);
ALTER ROLE ag_bot SET agent_guard.mode = dry_run;
ALTER ROLE CURRENT_USER SET agent_guard.enabled = off;
ALTER DATABASE postgres SET agent_guard.enabled = off;
ALTER SYSTEM SET agent_guard.enabled = off;
CREATE FUNCTION gp_sneaky() RETURNS void LANGUAGE sql
  SET agent_guard.enabled = off AS 'SELECT 1';
RESET agent_guard.mode;
SHOW agent_guard.enabled;
SHOW agent_guard.mode;

-- A superuser delegates the parameters; the agent still cannot use them.
\c - postgres
GRANT SET ON PARAMETER agent_guard.enabled TO ag_bot;
GRANT SET ON PARAMETER agent_guard.mode TO ag_bot;
\c - ag_bot
\set VERBOSITY terse
SET agent_guard.enabled = off;
SET agent_guard.mode = 'dry_run';
SELECT set_config('agent_guard.enabled', 'off', false);
SHOW agent_guard.enabled;
CREATE TABLE gp (id int);
INSERT INTO gp VALUES (1);
DELETE FROM gp;
SELECT count(*) FROM gp;
-- ... while a human with the same grant can.
\c - postgres
GRANT SET ON PARAMETER agent_guard.mode TO ag_plain;
\c - ag_plain
SET agent_guard.mode = dry_run;
SHOW agent_guard.mode;
RESET agent_guard.mode;
\c - postgres
REVOKE SET ON PARAMETER agent_guard.enabled FROM ag_bot;
REVOKE SET ON PARAMETER agent_guard.mode FROM ag_bot, ag_plain;
-- The agent's role and database settings are not changed.
SELECT setrole::regrole, setdatabase, setconfig FROM pg_db_role_setting
 WHERE array_to_string(setconfig, ',') LIKE '%agent_guard%'
   AND (setrole = 'ag_bot'::regrole OR setdatabase <> 0);
