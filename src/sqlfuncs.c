/*-------------------------------------------------------------------------
 *
 * sqlfuncs.c
 *		SQL-callable functions of agent_guard.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"

#include "agent_guard.h"

PG_FUNCTION_INFO_V1(agent_guard_audit_log_immutable);
PG_FUNCTION_INFO_V1(agent_guard_is_agent_session);
PG_FUNCTION_INFO_V1(agent_guard_role_is_agent);

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

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("agent_guard.audit_log is append-only"),
			 errdetail("%s of audit records is not allowed, for any role.", what)));
	PG_RETURN_NULL();
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
