/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *		SQL-callable functions of agent_guard.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "fmgr.h"

#include "agent_guard.h"

PG_FUNCTION_INFO_V1(agent_guard_audit_log_immutable);
PG_FUNCTION_INFO_V1(agent_guard_is_agent_session);
PG_FUNCTION_INFO_V1(agent_guard_role_is_agent);
PG_FUNCTION_INFO_V1(agent_guard_purge_audit);
PG_FUNCTION_INFO_V1(agent_guard_audit_row_hash);

/* Set only while purge_audit() deletes; reset by PG_FINALLY. */
static bool ag_purging = false;

/*
 * Trigger on agent_guard.audit_log: the table is append-only, for
 * superusers too.
 */
Datum
agent_guard_audit_log_immutable(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_log_immutable() must be called as a trigger")));

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		what = "TRUNCATE";
	else
		what = "this operation";

	/* purge_audit() removes a prefix of the chain, and only it. */
	if (ag_purging && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("agent_guard.audit_log is append-only"),
			 errdetail("%s of audit records is not allowed, for any role.", what),
			 errhint("Old records are removed with agent_guard.purge_audit().")));
	PG_RETURN_NULL();
}

/* Run one SPI query that must return one row; the first column, as int8. */
static int64
ag_spi_int8(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_with_args(sql, nargs, types, values, NULL, false, 1) < 0 ||
		SPI_processed != 1)
		elog(ERROR, "agent_guard: query failed: %s", sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : DatumGetInt64(d);
}

/*
 * agent_guard.purge_audit(before timestamptz) returns bigint: remove the
 * oldest audit rows, up to the first row not older than the cutoff; keep
 * the last removed row's hash as the chain's anchor; record the purge.
 */
Datum
agent_guard_purge_audit(PG_FUNCTION_ARGS)
{
	Datum		before = PG_GETARG_DATUM(0);
	Oid			tstypes[1] = {TIMESTAMPTZOID};
	Oid			i8types[1] = {INT8OID};
	int64		cut;
	int64		purged;
	char	   *hash;
	Datum		args[4];
	Oid			argtypes[4] = {INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID};

	if (ag_is_agent_session())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("agent_guard: an agent session cannot purge the audit log")));

	SPI_connect();
	cut = ag_spi_int8("SELECT coalesce((SELECT pg_catalog.min(chain_seq) FROM agent_guard.audit_log"
					  " WHERE logged_at OPERATOR(pg_catalog.>=) $1),"
					  " (SELECT pg_catalog.max(chain_seq) OPERATOR(pg_catalog.+) 1 FROM agent_guard.audit_log))"
					  " OPERATOR(pg_catalog.-) 1",
					  1, tstypes, &before);
	args[0] = Int64GetDatum(cut);
	if (cut < 0 ||
		ag_spi_int8("SELECT pg_catalog.count(*) FROM agent_guard.audit_log"
					" WHERE chain_seq OPERATOR(pg_catalog.<=) $1",
					1, i8types, args) == 0)
	{
		SPI_finish();
		PG_RETURN_INT64(0);
	}
	if (SPI_execute_with_args("SELECT row_hash FROM agent_guard.audit_log WHERE chain_seq OPERATOR(pg_catalog.=) $1",
							  1, i8types, args, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("agent_guard: the audit chain has no row at position %lld", (long long) cut),
				 errhint("Run agent_guard.verify_audit() to find where the chain is broken.")));
	hash = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	ag_purging = true;
	PG_TRY();
	{
		if (SPI_execute_with_args("DELETE FROM agent_guard.audit_log WHERE chain_seq OPERATOR(pg_catalog.<=) $1",
								  1, i8types, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "agent_guard: could not purge the audit log");
		purged = SPI_processed;
	}
	PG_FINALLY();
	{
		ag_purging = false;
	}
	PG_END_TRY();

	args[1] = Int64GetDatum(purged);
	args[2] = CStringGetTextDatum(hash);
	args[3] = before;
	if (SPI_execute_with_args("INSERT INTO agent_guard.audit_anchor (purged_by, purged_rows, last_chain_seq, last_row_hash)"
							  " VALUES (session_user, $2, $1, $3)",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_INSERT ||
		SPI_execute_with_args("INSERT INTO agent_guard.audit_log (logged_at, database_name, session_role,"
							  " effective_role, backend_pid, command_tag, statement, row_count, verdict, rule, reason)"
							  " VALUES (pg_catalog.now(), pg_catalog.current_database(), session_user, session_user,"
							  " pg_catalog.pg_backend_pid(), 'PURGE AUDIT', 'SELECT agent_guard.purge_audit(...)',"
							  " $2, 'allow', 'retention', pg_catalog.format('purged %s rows logged before %s, up to chain position %s', $2, $4, $1))",
							  4, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "agent_guard: could not record the purge");
	SPI_finish();
	PG_RETURN_INT64(purged);
}

Datum
agent_guard_is_agent_session(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ag_is_agent_session());
}

Datum
agent_guard_role_is_agent(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ag_role_is_agent(PG_GETARG_OID(0)));
}

/*
 * agent_guard.audit_row_hash(r audit_log) returns text: the hash a row
 * should carry in the chain, from the same function the audit worker uses.
 */
Datum
agent_guard_audit_row_hash(PG_FUNCTION_ARGS)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	Datum		values[32];
	bool		nulls[32];
	int			i;

	for (i = 0; ag_hash_columns[i] != NULL && i < 32; i++)
		values[i] = GetAttributeByName(row, ag_hash_columns[i], &nulls[i]);
	PG_RETURN_TEXT_P(cstring_to_text(ag_audit_hash(values, nulls)));
}
