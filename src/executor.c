/*-------------------------------------------------------------------------
 *
 * executor.c
 *		Executor hooks: judge the plan an agent session is about to run,
 *		count the rows it changes, and track statement nesting.
 *
 * ExecutorStart sees every plan that executes: plain DML, writable CTEs,
 * rule actions, statements inside SQL and PL/pgSQL functions, procedures,
 * DO blocks, triggers and dynamic EXECUTE, prepared statements and the
 * extended protocol, and the DML inside COPY (...) TO, EXPLAIN ANALYZE and
 * CREATE TABLE AS.  Judging here, at execution time, means a plan cached
 * before a role was tagged is still judged, with the parameters it runs
 * with.  EXPLAIN without ANALYZE executes nothing and is not judged.
 *
 * ag_nesting_level counts the executor runs and utility statements we are
 * inside, as pg_stat_statements does; level 0 is a top-level statement of
 * the session, where row budgets begin.  It is restored on error by
 * PG_FINALLY.  Parallel workers take no decision: the leader did.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/executor.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"

#include "agent_guard.h"

int			ag_nesting_level = 0;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;

/* Can this plan change rows at all?  Cheap test before anything else. */
static inline bool
ag_plan_may_modify(PlannedStmt *pstmt)
{
	return pstmt->commandType == CMD_DELETE ||
		pstmt->commandType == CMD_UPDATE ||
#ifdef AG_HAVE_MERGE
		pstmt->commandType == CMD_MERGE ||
#endif
		pstmt->hasModifyingCTE;
}

/*
 * Judge an agent's plan.  plan_owner is the agent whose rule or view the
 * plan runs in a human's session, or InvalidOid.  Returns whether a
 * decision went on record; a denial does not return.
 */
static bool
ag_judge_plan(QueryDesc *queryDesc, Oid plan_owner)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;
	AgFinding	f;
	Oid			saved_owner = ag_agent_code_owner;
	volatile bool recorded = false;

	ag_finding_init(&f, AG_OP_OTHER);
	ag_check_plan_tamper(pstmt, &f);
	if (f.op == AG_OP_OTHER && ag_plan_may_modify(pstmt))
		ag_classify_plan(pstmt, queryDesc->params, &f);
	if (f.op == AG_OP_OTHER)
		return false;

	/* Name the agent whose rule or view this is. */
	if (OidIsValid(plan_owner))
		ag_agent_code_owner = plan_owner;
	PG_TRY();
	{
		recorded = ag_judge(&f, queryDesc->sourceText,
							pstmt->stmt_location, pstmt->stmt_len);
	}
	PG_FINALLY();
	{
		ag_agent_code_owner = saved_owner;
	}
	PG_END_TRY();
	return recorded;
}

#ifdef AG_EXECUTOR_START_RETURNS_BOOL
static bool
#else
static void
#endif
ag_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;
	bool		explain_only = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	bool		agent = false;
	bool		routine = false;
	Oid			plan_owner = InvalidOid;

	if (ag_enabled && !explain_only && !IsParallelWorker())
	{
		if (ag_nesting_level == 0)
		{
			ag_budget_statement_begin(pstmt);
			routine = ag_audit_level == AG_AUDIT_ALL && ag_is_agent_session();
		}
		/* An agent's session, or a rule or view an agent owns. */
		agent = ag_is_agent_session();
		if (!agent && ag_plan_may_modify(pstmt))
		{
			plan_owner = ag_plan_agent_owner(pstmt);
			agent = OidIsValid(plan_owner);
		}
	}

	if (agent && (ag_plan_may_modify(pstmt) || pstmt->commandType == CMD_INSERT) &&
		ag_judge_plan(queryDesc, plan_owner))
		routine = false;		/* its decision is on record */

	/*
	 * A statement that needed no decision so far: its record is taken as it
	 * starts, so that one PostgreSQL then refuses or that fails is on record
	 * too, and queued as it ends.
	 */
	if (routine)
		ag_record_statement(GetCommandTagName(CreateCommandTag((Node *) pstmt)),
							queryDesc->sourceText,
							pstmt->stmt_location, pstmt->stmt_len, queryDesc);

#ifdef AG_EXECUTOR_START_RETURNS_BOOL
	{
		bool		valid = prev_ExecutorStart ?
			prev_ExecutorStart(queryDesc, eflags) :
			standard_ExecutorStart(queryDesc, eflags);

		if (!valid)
			return false;
	}
#else
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
#endif

	if (agent && pstmt->commandType != CMD_SELECT)
		ag_budget_watch(queryDesc);
	else if (agent && pstmt->hasModifyingCTE)
		ag_budget_watch(queryDesc);
#ifdef AG_EXECUTOR_START_RETURNS_BOOL
	return true;
#endif
}

#if AG_EXECUTOR_RUN_HAS_EXECUTE_ONCE
#define AG_RUN_ARGS queryDesc, direction, count, execute_once
static void
ag_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
			   bool execute_once)
#else
#define AG_RUN_ARGS queryDesc, direction, count
static void
ag_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count)
#endif
{
	ag_nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(AG_RUN_ARGS);
		else
			standard_ExecutorRun(AG_RUN_ARGS);
	}
	PG_FINALLY();
	{
		ag_nesting_level--;
	}
	PG_END_TRY();
}

static void
ag_ExecutorFinish(QueryDesc *queryDesc)
{
	ag_nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		ag_nesting_level--;
	}
	PG_END_TRY();
}

static void
ag_ExecutorEnd(QueryDesc *queryDesc)
{
	ag_budget_unwatch(queryDesc);
	if (ag_nesting_level == 0)
	{
		ag_budget_statement_end();
		ag_routine_end(queryDesc, queryDesc->estate ?
					   (int64) queryDesc->estate->es_processed : -1);
	}

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

void
ag_install_executor_hooks(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = ag_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = ag_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = ag_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = ag_ExecutorEnd;
}
