/*-------------------------------------------------------------------------
 *
 * decide.c
 *		From a finding to a verdict: apply the policy and the mode, make
 *		the decision durable in the audit trail, then let the statement run
 *		or raise the error the agent will read.
 *
 * The audit record of a denial or a dry-run verdict is committed before
 * the client sees the result.  If it cannot be, the statement is refused:
 * a dry run that cannot be recorded is enforced.  Attempts to weaken the
 * guard itself are refused even in dry_run mode.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "parser/scansup.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"

#include "agent_guard.h"

/* The statement that was judged, cut out of a multi-statement string. */
static char *
ag_statement_text(const char *source, int location, int len)
{
	int			srclen;

	if (source == NULL)
		return pstrdup("");
	srclen = strlen(source);
	if (location < 0 || location > srclen)
		return pstrdup(source);
	if (len <= 0 || location + len > srclen)
		len = srclen - location;
	while (len > 0 && scanner_isspace(source[location]))
	{
		location++;
		len--;
	}
	return pnstrdup(source + location, len);
}

static char *
ag_join_objects(List *objects)
{
	StringInfoData buf;
	ListCell   *lc;

	if (objects == NIL)
		return pstrdup("none named");
	initStringInfo(&buf);
	foreach(lc, objects)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, (char *) lfirst(lc));
	}
	return buf.data;
}

/*
 * Decide on a finding.  Returns if the statement may go on; otherwise
 * raises the denial.
 */
void
ag_judge(AgFinding *f, const char *sourceText, int stmt_location, int stmt_len)
{
	AgAuditRecord rec;
	bool		durable;
	const char *rule = ag_op_rule(f->op);
	char	   *statement;

	if (ag_op_default_action(f->op) != AG_ACTION_DENY)
		return;

	statement = ag_statement_text(sourceText, stmt_location, stmt_len);

	memset(&rec, 0, sizeof(rec));
	rec.verdict = (ag_mode == AG_MODE_DRY_RUN && f->op != AG_OP_GUARD_TAMPER) ?
		AG_VERDICT_DRY_RUN : AG_VERDICT_DENY;
	rec.row_count = f->row_count;
	rec.command_tag = f->command_tag ? f->command_tag : "???";
	rec.statement = statement;
	rec.top_statement = (debug_query_string &&
						 strcmp(debug_query_string, statement) != 0 &&
						 (sourceText == NULL || strcmp(debug_query_string, sourceText) != 0)) ?
		debug_query_string : NULL;
	rec.rule = rule;
	rec.reason = f->reason;
	rec.objects = f->objects;

	durable = ag_audit_write(&rec);

	if (rec.verdict == AG_VERDICT_DRY_RUN && durable)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("agent_guard: refused %s for agent role \"%s\"",
					rec.command_tag,
					GetUserNameFromId(GetSessionUserId(), false)),
			 errdetail("Rule \"%s\": %s. Objects: %s.%s",
					   rule, f->reason ? f->reason : "guarded statement",
					   ag_join_objects(f->objects),
					   durable ? "" :
					   rec.verdict == AG_VERDICT_DRY_RUN ?
					   " The audit record could not be written, so the dry-run verdict was enforced; see the server log." :
					   " The audit record could not be written to agent_guard.audit_log; it is in the server log."),
			 errhint("Ask a human to review this statement; if it is intended, a human must run it with a non-agent role. Do not retry it in another form.")));
}
