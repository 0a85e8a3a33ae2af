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
	reason			text,
	fingerprint		text,
	request_id		bigint,
	approver		text,
	chain_seq		bigint NOT NULL,
	prev_hash		text,
	row_hash		text
);

COMMENT ON TABLE @extschema@.audit_log IS
	'Every decision agent_guard took on a guarded statement of an agent session; append-only';

CREATE INDEX audit_log_logged_at_idx ON @extschema@.audit_log (logged_at);
CREATE UNIQUE INDEX audit_log_chain_seq_idx ON @extschema@.audit_log (chain_seq);

/*
 * The hash chain.  Every row carries the SHA-256 of its content and of the
 * previous row's hash, in chain_seq order, so a row edited, removed or
 * moved breaks the chain where verify_audit() will find it.  The content
 * is serialized without regard to TimeZone or DateStyle.
 */
CREATE FUNCTION @extschema@.audit_row_hash(r @extschema@.audit_log)
RETURNS text
AS 'MODULE_PATHNAME', 'agent_guard_audit_row_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

/* Where the chain starts after purges: the last purged row's hash. */
CREATE TABLE @extschema@.audit_anchor (
	purged_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	purged_by		text NOT NULL,
	purged_rows		bigint NOT NULL,
	last_chain_seq	bigint NOT NULL,
	last_row_hash	text NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_anchor', '');
REVOKE ALL ON @extschema@.audit_anchor FROM PUBLIC;

CREATE FUNCTION @extschema@.audit_chain()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	last_seq	bigint;
	last_hash	text;
BEGIN
	/*
	 * Rows that come with their hash are linked by the audit worker under
	 * the same lock (the trigger's WHEN clause lets them through).  Others
	 * get one link at a time, in commit order of whoever appends.
	 */
	PERFORM pg_catalog.pg_advisory_xact_lock(7142315, 1);
	SELECT a.chain_seq, a.row_hash INTO last_seq, last_hash
	  FROM @extschema@.audit_log a ORDER BY a.chain_seq DESC LIMIT 1;
	IF NOT FOUND THEN
		SELECT n.last_chain_seq, n.last_row_hash INTO last_seq, last_hash
		  FROM @extschema@.audit_anchor n ORDER BY n.last_chain_seq DESC LIMIT 1;
	END IF;
	NEW.chain_seq := coalesce(last_seq, 0) OPERATOR(pg_catalog.+) 1;
	NEW.prev_hash := last_hash;
	NEW.row_hash := @extschema@.audit_row_hash(NEW);
	RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_chain
	BEFORE INSERT ON @extschema@.audit_log
	FOR EACH ROW WHEN (NEW.row_hash IS NULL)
	EXECUTE FUNCTION @extschema@.audit_chain();

/*
 * Walk the chain and report the first broken link: ok, the chain_seq and id
 * of the first row that does not fit, and why.
 */
CREATE FUNCTION @extschema@.verify_audit(OUT ok boolean, OUT rows_checked bigint,
										 OUT broken_chain_seq bigint, OUT broken_id bigint,
										 OUT problem text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			@extschema@.audit_log;
	want_seq	bigint;
	want_hash	text;
BEGIN
	ok := true;
	rows_checked := 0;
	SELECT n.last_chain_seq OPERATOR(pg_catalog.+) 1, n.last_row_hash INTO want_seq, want_hash
	  FROM @extschema@.audit_anchor n ORDER BY n.last_chain_seq DESC LIMIT 1;
	IF NOT FOUND THEN
		want_seq := 1;
		want_hash := NULL;
	END IF;
	FOR r IN SELECT * FROM @extschema@.audit_log a ORDER BY a.chain_seq LOOP
		rows_checked := rows_checked OPERATOR(pg_catalog.+) 1;
		IF r.chain_seq OPERATOR(pg_catalog.<>) want_seq THEN
			problem := pg_catalog.format('expected chain position %s, found %s: rows are missing or were moved',
										 want_seq, r.chain_seq);
		ELSIF r.prev_hash IS DISTINCT FROM want_hash THEN
			problem := 'its link to the previous row does not match: the previous row was changed, removed or moved';
		ELSIF r.row_hash IS DISTINCT FROM @extschema@.audit_row_hash(r) THEN
			problem := 'its content does not match its hash: the row was changed';
		END IF;
		IF problem IS NOT NULL THEN
			ok := false;
			broken_chain_seq := r.chain_seq;
			broken_id := r.id;
			RETURN;
		END IF;
		want_seq := r.chain_seq OPERATOR(pg_catalog.+) 1;
		want_hash := r.row_hash;
	END LOOP;
END
$$;

/*
 * Remove audit rows older than a time, for retention.  Only a prefix of the
 * chain goes (up to the first row not older than the cutoff), its last hash
 * is kept as the new anchor, and the purge itself is recorded.
 */
CREATE FUNCTION @extschema@.purge_audit(before timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'agent_guard_purge_audit'
LANGUAGE C STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.purge_audit(timestamptz),
	@extschema@.verify_audit(), @extschema@.audit_chain() FROM PUBLIC;

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

/*
 * The administrator's policy: row budgets and actions per role, per table,
 * or both.  The most specific matching row wins: role and table, then
 * table, then role, then the agent_guard.* settings; among equals, the
 * lowest id.  table_name is a LIKE pattern (% and _) matched against the
 * table's name, or against schema.name when it contains a dot.
 *
 *   action 'deny'    the operation is refused, bounded or not;
 *   action 'allow'   no row budget, and unbounded DELETE/UPDATE/MERGE,
 *                    TRUNCATE or DROP TABLE (per operation) are allowed;
 *   action 'budget'  at most max_rows rows per statement: of that table for
 *                    a table rule, of all tables for a role-only rule.
 *
 * A row that cannot be understood (e.g. its role was dropped) makes every
 * agent statement the policy governs fail, never pass.
 */
CREATE TABLE @extschema@.policy (
	id			integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	role_name	text,
	table_name	text CHECK (table_name OPERATOR(pg_catalog.<>) ''),
	operation	text NOT NULL DEFAULT 'any'
		CHECK (operation OPERATOR(pg_catalog.=) ANY
			   (ARRAY['any', 'delete', 'update', 'merge', 'truncate', 'drop'])),
	action		text NOT NULL DEFAULT 'budget'
		CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['allow', 'budget', 'deny'])),
	max_rows	bigint CHECK (max_rows OPERATOR(pg_catalog.>=) 0),
	approvers	integer NOT NULL DEFAULT 1 CHECK (approvers OPERATOR(pg_catalog.>=) 1),
	comment		text,
	CHECK ((action OPERATOR(pg_catalog.=) 'budget') OPERATOR(pg_catalog.=)
		   (max_rows IS NOT NULL))
);

COMMENT ON TABLE @extschema@.policy IS
	'Row budgets and actions for agent roles per role and table; see the agent_guard README';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.policy', '');

CREATE FUNCTION @extschema@.policy_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'agent_guard_policy_changed'
LANGUAGE C;

CREATE TRIGGER policy_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.policy_changed();

REVOKE ALL ON @extschema@.policy FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.policy_changed() FROM PUBLIC;

/*
 * Approvals.  A refused statement files a request here, in the audit
 * database, through the audit worker; humans approve or reject it with
 * approve() and reject(); an approval yields a one-time token, stored only
 * as its SHA-256, which the worker checks and spends when the agent runs
 * the statement again.
 */
CREATE TABLE @extschema@.approval_request (
	id				bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	requested_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	role_name		text NOT NULL,
	database_name	text NOT NULL,
	statement		text NOT NULL,
	fingerprint		text NOT NULL,
	objects			text[] NOT NULL DEFAULT '{}',
	row_count		bigint,
	rule			text,
	approvals_required integer NOT NULL DEFAULT 1,
	status			text NOT NULL DEFAULT 'pending'
		CHECK (status OPERATOR(pg_catalog.=) ANY
			   (ARRAY['pending', 'approved', 'rejected', 'used'])),
	intent			boolean NOT NULL DEFAULT false,
	decided_at		timestamptz,
	decided_by		text,
	reason			text,
	token_hash		text UNIQUE,
	max_rows		bigint,
	expires_at		timestamptz,
	used_at			timestamptz,
	used_by_pid		integer
);

CREATE INDEX approval_request_pending_idx ON @extschema@.approval_request
	(fingerprint, role_name, database_name) WHERE status OPERATOR(pg_catalog.=) 'pending';

CREATE TABLE @extschema@.approval_vote (
	request_id		bigint NOT NULL REFERENCES @extschema@.approval_request,
	approver		text NOT NULL,
	approved_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (request_id, approver)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.approval_request', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.approval_vote', '');

CREATE VIEW @extschema@.approval_requests AS
	SELECT r.id, r.requested_at, r.role_name, r.database_name, r.statement,
		   r.fingerprint, r.row_count, r.status, r.objects, r.rule, r.intent,
		   r.approvals_required,
		   (SELECT pg_catalog.array_agg(v.approver ORDER BY v.approved_at)
			  FROM @extschema@.approval_vote v
			 WHERE v.request_id OPERATOR(pg_catalog.=) r.id) AS approved_by,
		   r.decided_at, r.decided_by, r.reason, r.max_rows, r.expires_at,
		   r.used_at
	  FROM @extschema@.approval_request r;

REVOKE ALL ON @extschema@.approval_request, @extschema@.approval_vote,
	@extschema@.approval_requests FROM PUBLIC;

/*
 * Approve a request.  Callable by whoever was granted EXECUTE on it (the
 * approver privilege), never by an agent session, never by the requesting
 * role.  Returns the one-time token once the request has as many distinct
 * approvers as it requires; NULL (with a notice) before that.
 */
CREATE FUNCTION @extschema@.approve(request_id bigint,
									max_rows bigint DEFAULT NULL,
									valid_for interval DEFAULT '1 hour')
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	req		@extschema@.approval_request;
	me		text := session_user;
	votes	integer;
	token	text;
BEGIN
	IF @extschema@.is_agent_session() THEN
		RAISE EXCEPTION 'agent_guard: an agent session cannot approve requests'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'A human with a non-agent role must approve it.';
	END IF;
	IF valid_for IS NULL OR valid_for <= interval '0' THEN
		RAISE EXCEPTION 'validity of an approval must be positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_rows < 0 THEN
		RAISE EXCEPTION 'row ceiling of an approval cannot be negative'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO req FROM @extschema@.approval_request r
	 WHERE r.id OPERATOR(pg_catalog.=) approve.request_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'approval request % does not exist', request_id
			USING ERRCODE = 'no_data_found',
				  HINT = 'Requests live in the audit database (agent_guard.database).';
	END IF;
	IF req.status OPERATOR(pg_catalog.<>) 'pending' THEN
		RAISE EXCEPTION 'approval request % is %, not pending', request_id, req.status
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF req.role_name OPERATOR(pg_catalog.=) me
	   OR req.role_name OPERATOR(pg_catalog.=) current_user::text THEN
		RAISE EXCEPTION 'role "%" cannot approve its own request', me
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	BEGIN
		INSERT INTO @extschema@.approval_vote (request_id, approver)
			VALUES (req.id, me);
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'role "%" has already approved request %', me, req.id
			USING ERRCODE = 'unique_violation',
				  HINT = 'Another approver must approve it.';
	END;
	SELECT pg_catalog.count(*) INTO votes FROM @extschema@.approval_vote v
	 WHERE v.request_id OPERATOR(pg_catalog.=) req.id;
	IF votes OPERATOR(pg_catalog.<) req.approvals_required THEN
		RAISE NOTICE 'request % has % of % approvals; another approver must approve it',
			req.id, votes, req.approvals_required;
		RETURN NULL;
	END IF;
	token := 'agt_' OPERATOR(pg_catalog.||)
		pg_catalog.replace(pg_catalog.gen_random_uuid()::text OPERATOR(pg_catalog.||)
						   pg_catalog.gen_random_uuid()::text, '-', '');
	UPDATE @extschema@.approval_request r
	   SET status = 'approved', decided_at = pg_catalog.now(), decided_by = me,
		   token_hash = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')), 'hex'),
		   max_rows = approve.max_rows,
		   expires_at = pg_catalog.now() OPERATOR(pg_catalog.+) valid_for
	 WHERE r.id OPERATOR(pg_catalog.=) req.id;
	RETURN token;
END
$$;

/* Reject a request; an approved one not yet used loses its token. */
CREATE FUNCTION @extschema@.reject(request_id bigint, reason text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	req		@extschema@.approval_request;
BEGIN
	IF @extschema@.is_agent_session() THEN
		RAISE EXCEPTION 'agent_guard: an agent session cannot reject requests'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO req FROM @extschema@.approval_request r
	 WHERE r.id OPERATOR(pg_catalog.=) reject.request_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'approval request % does not exist', request_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF req.status OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'approved']) THEN
		RAISE EXCEPTION 'approval request % is %; it can no longer be rejected', request_id, req.status
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	UPDATE @extschema@.approval_request r
	   SET status = 'rejected', decided_at = pg_catalog.now(),
		   decided_by = session_user, reason = reject.reason
	 WHERE r.id OPERATOR(pg_catalog.=) req.id;
END
$$;

/*
 * Called by the audit worker only: file (or find the pending twin of) a
 * request, and announce it on channel agent_guard_approvals.
 */
CREATE FUNCTION @extschema@.file_request(p_role text, p_database text,
										 p_statement text, p_fingerprint text,
										 p_objects text[], p_row_count bigint,
										 p_rule text, p_approvals integer,
										 p_intent boolean)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rid		bigint;
BEGIN
	SELECT r.id INTO rid FROM @extschema@.approval_request r
	 WHERE r.status OPERATOR(pg_catalog.=) 'pending'
	   AND r.fingerprint OPERATOR(pg_catalog.=) p_fingerprint
	   AND r.role_name OPERATOR(pg_catalog.=) p_role
	   AND r.database_name OPERATOR(pg_catalog.=) p_database
	 ORDER BY r.id LIMIT 1;
	IF FOUND THEN
		RETURN rid;
	END IF;
	INSERT INTO @extschema@.approval_request (role_name, database_name, statement,
			fingerprint, objects, row_count, rule, approvals_required, intent)
		VALUES (p_role, p_database, p_statement, p_fingerprint,
				coalesce(p_objects, '{}'), p_row_count, p_rule,
				greatest(coalesce(p_approvals, 1), 1), p_intent)
		RETURNING id INTO rid;
	PERFORM pg_catalog.pg_notify('agent_guard_approvals', rid::text);
	RETURN rid;
END
$$;

/*
 * Called by the audit worker only: check a presented token (by its hash)
 * against who presents it for what, and spend it.  Exactly one caller can
 * spend a token: the row is locked and marked used in one transaction.
 */
CREATE FUNCTION @extschema@.spend_token(p_token_hash text, p_role text,
										p_database text, p_fingerprint text,
										p_pid integer,
										OUT ok boolean, OUT reason text,
										OUT request_id bigint,
										OUT approvers text, OUT max_rows bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	req		@extschema@.approval_request;
BEGIN
	ok := false;
	SELECT * INTO req FROM @extschema@.approval_request r
	 WHERE r.token_hash OPERATOR(pg_catalog.=) p_token_hash FOR UPDATE;
	IF NOT FOUND THEN
		reason := 'the approval token is not valid';
		RETURN;
	END IF;
	request_id := req.id;
	IF req.status OPERATOR(pg_catalog.=) 'used' THEN
		reason := pg_catalog.format('the approval token of request %s was already used', req.id);
	ELSIF req.status OPERATOR(pg_catalog.=) 'rejected' THEN
		reason := pg_catalog.format('request %s was rejected', req.id);
	ELSIF req.status OPERATOR(pg_catalog.<>) 'approved' THEN
		reason := pg_catalog.format('request %s is not approved', req.id);
	ELSIF req.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
		reason := pg_catalog.format('the approval of request %s has expired', req.id);
	ELSIF req.role_name OPERATOR(pg_catalog.<>) p_role THEN
		reason := pg_catalog.format('the approval of request %s is for role %s, not %s', req.id, req.role_name, p_role);
	ELSIF req.database_name OPERATOR(pg_catalog.<>) p_database THEN
		reason := pg_catalog.format('the approval of request %s is for database %s, not %s', req.id, req.database_name, p_database);
	ELSIF req.fingerprint OPERATOR(pg_catalog.<>) p_fingerprint THEN
		reason := pg_catalog.format('the approval of request %s is for another statement: %s', req.id, req.statement);
	ELSE
		UPDATE @extschema@.approval_request r
		   SET status = 'used', used_at = pg_catalog.now(), used_by_pid = p_pid
		 WHERE r.id OPERATOR(pg_catalog.=) req.id;
		ok := true;
		max_rows := req.max_rows;
		SELECT pg_catalog.string_agg(v.approver, ', ' ORDER BY v.approved_at)
		  INTO approvers FROM @extschema@.approval_vote v
		 WHERE v.request_id OPERATOR(pg_catalog.=) req.id;
	END IF;
END
$$;

/* File a request ahead of time for a statement an agent means to run. */
CREATE FUNCTION @extschema@.request_approval(statement text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'agent_guard_request_approval'
LANGUAGE C STRICT;

REVOKE ALL ON FUNCTION @extschema@.approve(bigint, bigint, interval),
	@extschema@.reject(bigint, text),
	@extschema@.file_request(text, text, text, text, text[], bigint, text, integer, boolean),
	@extschema@.spend_token(text, text, text, text, integer)
	FROM PUBLIC;

/* Anyone may call is_agent_session() and role_is_agent(). */
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

/*
 * Statement fingerprint: hex SHA-256 over the canonical token stream (see
 * docs/fingerprint.md); agent_guard_lint --fingerprint prints the same value.
 */
CREATE FUNCTION @extschema@.fingerprint(sql text)
RETURNS text
AS 'MODULE_PATHNAME', 'agent_guard_fingerprint'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
