/*-------------------------------------------------------------------------
 *
 * utility.c
 *		ProcessUtility hook: judge utility statements of agent sessions.
 *
 * Every utility statement passes here, whether it comes from a client, a
 * multi-statement string (one call per statement), SPI in a function or DO
 * block, or dynamic EXECUTE.  The hook classifies the parse tree, lets
 * decide.c rule on it, and records for the object access hook which drops
 * the statement may go on to cause.  That state is saved and restored
 * around the call, also on error, so nested statements cannot leak it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"

#include "agent_guard.h"

AgDropScope ag_drop_scope = AG_DROP_NONE;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void
ag_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	AgDropScope saved_scope = ag_drop_scope;
	AgDropScope scope = AG_DROP_NONE;
	bool		toplevel = ag_nesting_level == 0;

	/*
	 * Transaction control is never destructive, and may arrive in an aborted
	 * transaction where the catalogs cannot be read.
	 */
	bool		judge = ag_enabled && !IsA(pstmt->utilityStmt, TransactionStmt) &&
		IsTransactionState() && !IsParallelWorker();

	if (judge && toplevel)
		ag_budget_statement_begin(pstmt);

	if (judge && ag_is_agent_session())
	{
		AgFinding	f;
		Node	   *stmt = pstmt->utilityStmt;

		bool		recorded = false;

		ag_classify_utility(stmt, &f);
		if (f.op != AG_OP_OTHER)
		{
			/* Returns only when the statement may run (policy, dry run). */
			recorded = ag_judge(&f, queryString, pstmt->stmt_location,
								pstmt->stmt_len);
			scope = AG_DROP_ANY;
		}
		else if (IsA(stmt, DropStmt) || IsA(stmt, AlterTableStmt) ||
				 IsA(stmt, RenameStmt))
			scope = AG_DROP_TEMP;	/* allowed: session's temp objects */

		/* Unless its decision is on record already. */
		if (toplevel && ag_audit_level == AG_AUDIT_ALL && !recorded)
			ag_record_statement(GetCommandTagName(CreateCommandTag(stmt)),
								queryString, pstmt->stmt_location,
								pstmt->stmt_len, pstmt);
	}

	ag_drop_scope = scope;
	ag_nesting_level++;
	PG_TRY();
	{
		if (IsA(pstmt->utilityStmt, SecLabelStmt) &&
			((SecLabelStmt *) pstmt->utilityStmt)->provider != NULL &&
			strcmp(((SecLabelStmt *) pstmt->utilityStmt)->provider, AG_PROVIDER) == 0)
			ag_exec_seclabel((SecLabelStmt *) pstmt->utilityStmt);
		else if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		ag_nesting_level--;
		ag_drop_scope = saved_scope;
	}
	PG_END_TRY();

	if (judge && toplevel)
	{
		ag_budget_statement_end();
		ag_routine_end(pstmt, qc && command_tag_display_rowcount(qc->commandTag) ?
					   (int64) qc->nprocessed : -1);
	}
}

void
ag_install_utility_hook(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = ag_ProcessUtility;
}
