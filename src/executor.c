/*-------------------------------------------------------------------------
 *
 * executor.c
 *		Executor hooks: judge the plan an agent session is about to run.
 *
 * ExecutorStart sees every plan that executes: plain DML, writable CTEs,
 * rule actions, statements inside SQL and PL/pgSQL functions, procedures,
 * DO blocks, triggers and dynamic EXECUTE, prepared statements and the
 * extended protocol, and the DML inside COPY (...) TO, EXPLAIN ANALYZE and
 * CREATE TABLE AS.  Judging here, at execution time, means a plan cached
 * before a role was tagged is still judged, with the parameters it runs
 * with.  EXPLAIN without ANALYZE executes nothing and is not judged.
 *
 * Parallel workers run no decision: the leader already took it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/executor.h"

#include "agent_guard.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/* Can this plan change rows at all?  Cheap test before anything else. */
static inline bool
ag_plan_may_modify(PlannedStmt *pstmt)
{
	return pstmt->commandType == CMD_DELETE ||
		pstmt->commandType == CMD_UPDATE ||
		pstmt->commandType == CMD_MERGE ||
		pstmt->hasModifyingCTE;
}

static void
ag_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *pstmt = queryDesc->plannedstmt;

	if (ag_enabled &&
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
		ag_plan_may_modify(pstmt) &&
		!IsParallelWorker() &&
		ag_is_agent_session())
	{
		AgFinding	f;

		ag_classify_plan(pstmt, queryDesc->params, &f);
		if (f.op != AG_OP_OTHER)
			ag_judge(&f, queryDesc->sourceText,
					 pstmt->stmt_location, pstmt->stmt_len);
	}

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
ag_install_executor_hooks(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = ag_ExecutorStart;
}
