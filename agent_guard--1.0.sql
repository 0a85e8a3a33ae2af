/* agent_guard--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION agent_guard" to load this file. \quit

/*
 * The audit trail.  Rows are written only by agent_guard's background
 * worker, in the database named by agent_guard.database; the table exists
 * in every database where the extension is created, but only that one
 * receives rows.  Append-only for everyone: UPDATE, DELETE and TRUNCATE are
 * refused by triggers.  Nobody but its owner and superusers may read it
 * unless granted, and an agent session never sees a row even if granted.
 */
CREATE TABLE @extschema@.audit_log (
	id				bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	logged_at		timestamptz NOT NULL,
	database_name	text NOT NULL,
	session_role	text,
	effective_role	text,
	client_addr		inet,
	application_name text,
	backend_pid		integer NOT NULL,
	command_tag		text NOT NULL,
	statement		text NOT NULL,
	top_statement	text,
	objects			text[] NOT NULL DEFAULT '{}',
	row_count		bigint,
	verdict			text NOT NULL
		CHECK (verdict OPERATOR(pg_catalog.=) ANY (ARRAY['allow', 'deny', 'dry_run'])),
	rule			text NOT NULL,
	reason			text
);

COMMENT ON TABLE @extschema@.audit_log IS
	'Every decision agent_guard took on a guarded statement of an agent session; append-only';

CREATE INDEX audit_log_logged_at_idx ON @extschema@.audit_log (logged_at);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');

CREATE FUNCTION @extschema@.audit_log_immutable()
RETURNS trigger
AS 'MODULE_PATHNAME', 'agent_guard_audit_log_immutable'
LANGUAGE C;

CREATE TRIGGER audit_log_append_only
	BEFORE UPDATE OR DELETE ON @extschema@.audit_log
	FOR EACH ROW EXECUTE FUNCTION @extschema@.audit_log_immutable();

CREATE TRIGGER audit_log_no_truncate
	BEFORE TRUNCATE ON @extschema@.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.audit_log_immutable();

/* Is the current session an agent session? */
CREATE FUNCTION @extschema@.is_agent_session()
RETURNS boolean
AS 'MODULE_PATHNAME', 'agent_guard_is_agent_session'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

/* Is this role tagged as an agent, directly or through membership? */
CREATE FUNCTION @extschema@.role_is_agent(role regrole)
RETURNS boolean
AS 'MODULE_PATHNAME', 'agent_guard_role_is_agent'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

/* The roles tagged directly; members of them are agents too. */
CREATE VIEW @extschema@.agent_roles AS
	SELECT l.objoid::pg_catalog.regrole AS role_name
	FROM pg_catalog.pg_shseclabel l
	WHERE l.provider OPERATOR(pg_catalog.=) 'agent_guard'
	  AND l.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_authid'::pg_catalog.regclass
	  AND l.label OPERATOR(pg_catalog.=) 'agent';

ALTER TABLE @extschema@.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_hidden_from_agents ON @extschema@.audit_log
	FOR SELECT USING (NOT @extschema@.is_agent_session());

REVOKE ALL ON @extschema@.audit_log FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.audit_log_immutable() FROM PUBLIC;

/* Anyone may call is_agent_session() and role_is_agent(). */
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
